//! What every example does with an error: print it with its causes.

use std::process::ExitCode;

/// Runs an example's body; an error is printed with its whole source chain
/// ("could not create the HTTP client: ...: <the TLS cause>"), never as a
/// Debug struct.
pub fn report(result: Result<(), Box<dyn std::error::Error>>) -> ExitCode {
    let Err(err) = result else {
        return ExitCode::SUCCESS;
    };
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    eprintln!("error: {text}");
    ExitCode::FAILURE
}
