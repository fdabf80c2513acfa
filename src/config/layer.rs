//! How a layer is made: [`JKoolLayer`]'s constructors, each through the
//! [`Builder`].

use crate::config::builder::Builder;
use crate::JKoolLayer;

impl JKoolLayer {
    /// A layer with default settings: [`builder(token).build()`](Self::builder).
    /// Like the builder, it sends to `JKOOL_URL` when that variable is
    /// set, else to jKool's streaming endpoint, and reads no other
    /// variable ([`from_env`](Self::from_env) reads them all).
    ///
    /// # Panics
    /// When the token is empty or `JKOOL_URL` is not a usable URL; the
    /// message says which. Use [`JKoolLayer::builder`] to get a `Result`.
    pub fn new(token: impl Into<String>) -> Self {
        Self::builder(token)
            .build()
            .unwrap_or_else(|err| panic!("tracing-jkool: {err}"))
    }

    /// A layer configured from environment variables: `JKOOL_TOKEN` is
    /// required; see [`Builder::with_env`] for the others.
    ///
    /// # Errors
    /// [`Error::MissingEnv`] without `JKOOL_TOKEN`; otherwise as
    /// [`Builder::with_env`] and [`Builder::build`].
    ///
    /// [`Error::MissingEnv`]: crate::Error::MissingEnv
    pub fn from_env() -> Result<Self, crate::Error> {
        if std::env::var_os("JKOOL_TOKEN").is_none() {
            return Err(crate::Error::MissingEnv("JKOOL_TOKEN"));
        }
        Self::builder("").with_env()?.build()
    }

    /// A [`Builder`] for every setting, checked by [`Builder::build`]. Of
    /// the environment it reads only `JKOOL_URL`, as the default of
    /// [`url`](Builder::url); [`Builder::with_env`] reads every variable.
    pub fn builder(token: impl Into<String>) -> Builder {
        Builder::new(token.into())
    }
}
