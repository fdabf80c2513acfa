//! The default `source-fqn`: where items come from, found once at start.

/// `APPL=<program>#SERVER=<host name>#NETADDR=<first non-loopback address>`,
/// leaving out what cannot be found.
pub(crate) fn default_source_fqn() -> String {
    let program = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "unknown".to_owned());
    let mut fqn = format!("APPL={program}");
    let host = gethostname::gethostname();
    if !host.is_empty() {
        fqn.push_str("#SERVER=");
        fqn.push_str(&host.to_string_lossy());
    }
    let address = if_addrs::get_if_addrs().ok().and_then(|addrs| {
        addrs
            .into_iter()
            .filter(|a| !a.is_loopback())
            .min_by_key(|a| a.ip().is_ipv6())
    });
    if let Some(address) = address {
        fqn.push_str("#NETADDR=");
        fqn.push_str(&address.ip().to_string());
    }
    fqn
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
