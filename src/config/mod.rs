//! Configuration, on the application's thread, before anything runs: the
//! [`Builder`](crate::Builder) and its checks, the environment variables,
//! where items come from, and `build`, which starts the pipeline. It may
//! call every other stage (it assembles them); nothing calls back into it
//! but for the settings it hands out.

// In the order the Builder's docs show their sections: build and the
// environment first, then where it sends, what, how (with correlation),
// durability, what happens at exit and on a panic, volume and privacy.
pub(crate) mod build;

pub(crate) mod env;

pub(crate) mod endpoint;

pub(crate) mod builder;

pub(crate) mod correlation;

pub(crate) mod durability;

pub(crate) mod exit;

pub(crate) mod volume;

pub(crate) mod privacy;

pub(crate) mod layer;
