//! Configuration, on the application's thread, before anything runs: the
//! [`Builder`](crate::Builder) and its checks, the environment variables,
//! where items come from, and `build`, which starts the pipeline. It may
//! call every other stage (it assembles them); nothing calls back into it
//! but for the settings it hands out.

pub(crate) mod build;
pub(crate) mod builder;
pub(crate) mod durability;
pub(crate) mod env;
pub(crate) mod layer;
