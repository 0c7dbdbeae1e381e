//! How `deployflow serve` authenticates: tokens unless told otherwise, and no
//! authentication only on a loopback address.

use std::net::{IpAddr, SocketAddr};

use super::Config;

impl Config {
    /// The API's authentication for a server listening on `listen`.
    pub fn auth_config(&self, listen: SocketAddr) -> Result<api::auth::AuthConfig, String> {
        let disabled = match self.auth.trim() {
            "tokens" => false,
            "off" => true,
            other => return Err(format!("AUTH must be `tokens` or `off`, got {other:?}")),
        };
        if disabled && !listen.ip().is_loopback() {
            return Err(format!(
                "AUTH=off with LISTEN_ADDR {listen}: a server without authentication listens only \
                 on loopback (127.0.0.1); create a token with `deployflow token create` instead"
            ));
        }
        Ok(api::auth::AuthConfig {
            disabled,
            submitters_see_all: self.submitters_see_all_jobs,
            allowed_hosts: self.allowed_hosts(listen.ip())?,
            submissions_per_minute: self.submissions_per_minute,
            max_active_jobs: self.max_active_jobs_per_token,
            max_event_streams: self.max_event_streams_per_token,
        })
    }

    /// The `Host` values requests may carry: the public URL's host, or on
    /// loopback the loopback names (refusing DNS rebinding); otherwise any.
    fn allowed_hosts(&self, ip: IpAddr) -> Result<Vec<String>, String> {
        if let Some(public) = self.public_url.as_deref().filter(|u| !u.is_empty()) {
            let url = reqwest::Url::parse(public)
                .map_err(|e| format!("PUBLIC_URL must be a URL, got {public:?}: {e}"))?;
            let host = url
                .host_str()
                .ok_or_else(|| format!("PUBLIC_URL has no host: {public:?}"))?
                .to_ascii_lowercase();
            return Ok(match url.port() {
                Some(port) => vec![format!("{host}:{port}")],
                None => vec![host],
            });
        }
        Ok(if ip.is_loopback() {
            ["127.0.0.1", "localhost", "[::1]"]
                .map(str::to_owned)
                .to_vec()
        } else {
            Vec::new()
        })
    }
}
