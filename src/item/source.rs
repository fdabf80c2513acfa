//! Where items come from, found once at start: the default `source-fqn`,
//! and the host's name and address that requests name in their headers.

use std::net::IpAddr;

/// `APPL=<program>#SERVER=<host name>#NETADDR=<first non-loopback address>`,
/// leaving out what cannot be found.
pub(crate) fn default_source_fqn() -> String {
    let program = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "unknown".to_owned());
    let mut fqn = format!("APPL={program}");
    if let Some(host) = host_name() {
        fqn.push_str("#SERVER=");
        fqn.push_str(&host);
    }
    if let Some(address) = host_address() {
        fqn.push_str("#NETADDR=");
        fqn.push_str(&address.to_string());
    }
    fqn
}

/// The host's name, if it has one.
pub(crate) fn host_name() -> Option<String> {
    let host = gethostname::gethostname();
    (!host.is_empty()).then(|| host.to_string_lossy().into_owned())
}

/// The host's first non-loopback address, IPv4 first.
pub(crate) fn host_address() -> Option<IpAddr> {
    let addrs = if_addrs::get_if_addrs().ok()?;
    (addrs.into_iter())
        .filter(|a| !a.is_loopback())
        .min_by_key(|a| a.ip().is_ipv6())
        .map(|a| a.ip())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_source_fqn_names_the_program_and_host() {
        let fqn = default_source_fqn();
        assert!(fqn.starts_with("APPL="), "{fqn}");
        assert!(fqn.contains("#SERVER="), "{fqn}");
    }
}
