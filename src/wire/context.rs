//! What the delivery thread adds to every item it writes: where items come
//! from, and the units and categories the builder set.

use std::collections::HashMap;

use crate::item::value::ValueType;
use crate::wire::json::{key, Object};

/// What the background task adds to every item.
#[derive(Debug, Clone)]
pub(crate) struct Context {
    pub(crate) source_fqn: String,
    pub(crate) pid: u32,
    /// `,"source-fqn":"…","pid":…,"time-usec":`, written once by
    /// [`Context::write_origin`].
    pub(crate) origin: Box<[u8]>,
    /// Units by field name, such as `payment.amount`.
    pub(crate) units: HashMap<String, ValueType>,
    /// Categories by snapshot name.
    pub(crate) categories: HashMap<String, String>,
}

impl Context {
    pub(crate) fn new(
        source_fqn: String,
        units: HashMap<String, ValueType>,
        categories: HashMap<String, String>,
    ) -> Self {
        Context {
            source_fqn,
            pid: 0,
            origin: Box::default(),
            units,
            categories,
        }
        .with_pid(std::process::id())
    }

    /// The same, for the process `pid`.
    pub(crate) fn with_pid(mut self, pid: u32) -> Self {
        self.pid = pid;
        self.origin =
            crate::wire::json::members(|item| Context::write_origin(item, &self.source_fqn, pid));
        self
    }

    /// Writes an item's `source-fqn` and `pid`, and the key of its
    /// `time-usec`.
    pub(crate) fn write_origin(item: &mut Object<'_>, source_fqn: &str, pid: u32) {
        item.str(key::SOURCE_FQN, source_fqn);
        item.u64(key::PID, pid.into());
        item.key(key::TIME_USEC);
    }
}
