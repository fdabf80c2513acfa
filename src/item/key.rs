//! jKool's JSON keys, spelled once: each with its name and the same as it
//! starts a JSON member.

// Both writers of items (`wire`'s, for tracing's spans and events, and
// the `Serialize` impls) use these.
macro_rules! keys {
    ($($name:ident = $text:literal,)*) => {$(
        pub(crate) const $name: Key = Key {
            name: $text,
            json: concat!("\"", $text, "\":"),
        };
    )*};
}

keys! {
    TYPE = "type",
    TRACKING_ID = "tracking-id",
    PARENT_ID = "parent-id",
    CORRID = "corrid",
    SOURCE_FQN = "source-fqn",
    SOURCE_URL = "source-url",
    TIME_USEC = "time-usec",
    PID = "pid",
    TID = "tid",
    OPERATION = "operation",
    SEVERITY = "severity",
    STATUS = "status",
    COMP_CODE = "comp-code",
    REASON_CODE = "reason-code",
    EXCEPTION = "exception",
    LOCATION = "location",
    RESOURCE = "resource",
    USER = "user",
    START_TIME_USEC = "start-time-usec",
    END_TIME_USEC = "end-time-usec",
    ELAPSED_TIME_USEC = "elapsed-time-usec",
    WAIT_TIME_USEC = "wait-time-usec",
    MSG_TEXT = "msg-text",
    MSG_TAG = "msg-tag",
    MSG_SIZE = "msg-size",
    MSG_AGE_USEC = "msg-age-usec",
    ENCODING = "encoding",
    CHARSET = "charset",
    MIME_TYPE = "mime-type",
    PROPERTIES = "properties",
    SNAPSHOTS = "snapshots",
    NAME = "name",
    CATEGORY = "category",
    VALUE = "value",
    VALUE_TYPE = "value-type",
}

/// A jKool key: its name, and the same as it starts a JSON member.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Key {
    pub(crate) name: &'static str,
    /// `"name":`
    json: &'static str,
}

impl Key {
    /// The key as it starts a JSON member: `"name":`.
    pub(crate) fn json(&self) -> &'static str {
        self.json
    }
}

impl serde::Serialize for Key {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name)
    }
}
