//! What an environment variable holds, from its name: who can give its
//! value, and whether a deployment may generate one.

use super::env::{database_variable, is_secret};
use crate::facts::VariableKind;

/// Keys an app signs or encrypts its own data with (sessions, cookies,
/// tokens it issues): any strong random value serves.
const APP_SECRETS: &[&str] = &[
    "SECRET",
    "SECRET_KEY",
    "SECRET_KEY_BASE",
    "APP_KEY",
    "APP_SECRET",
    "APP_SECRET_KEY",
    "JWT_SECRET",
    "JWT_SECRET_KEY",
    "JWT_KEY",
    "JWT_SIGNING_KEY",
    "JWT_ACCESS_SECRET",
    "JWT_REFRESH_SECRET",
    "JWT_ACCESS_TOKEN_SECRET",
    "JWT_REFRESH_TOKEN_SECRET",
    "ACCESS_TOKEN_SECRET",
    "REFRESH_TOKEN_SECRET",
    "ACCESS_SECRET",
    "REFRESH_SECRET",
    "JWT_ACCESS_KEY",
    "JWT_REFRESH_KEY",
    "JWT_TOKEN_SECRET",
    "TOKEN_SECRET",
    "SESSION_SECRET",
    "SESSION_KEY",
    "SESSION_SECRET_KEY",
    "COOKIE_SIGNING_KEY",
    "COOKIE_SECRET",
    "COOKIE_KEY",
    "CSRF_SECRET",
    "NEXTAUTH_SECRET",
    "AUTH_SECRET",
    "BETTER_AUTH_SECRET",
    "HMAC_SECRET",
];

/// The app's own public address, as a URL or as host names.
const OWN_ADDRESSES: &[&str] = &[
    "BASE_URL",
    "APP_URL",
    "APP_BASE_URL",
    "PUBLIC_URL",
    "PUBLIC_BASE_URL",
    "SITE_URL",
    "WEB_URL",
    "SERVER_URL",
    "ROOT_URL",
    "NEXTAUTH_URL",
    "AUTH_URL",
    "BETTER_AUTH_URL",
    "ORIGIN",
    "APP_ORIGIN",
    "ALLOWED_HOSTS",
    "PHX_HOST",
];

/// Prefixes that name the app or its framework, not another party:
/// `DJANGO_SECRET_KEY` is Django's key, `STRIPE_SECRET_KEY` is Stripe's.
const OWN_PREFIXES: &[&str] = &[
    "DJANGO_", "FLASK_", "QUART_", "SANIC_", "RAILS_", "EXPRESS_", "SERVER_", "WEB_", "APP_",
];

/// What `name` holds.
pub fn variable_kind(name: &str) -> VariableKind {
    let upper = name.to_ascii_uppercase();
    if upper == "PORT" || upper.ends_with("_PORT") {
        return VariableKind::Port;
    }
    if database_variable(&upper).is_some()
        || upper.contains("DATABASE_URL")
        || upper.ends_with("_DB_URL")
        || upper.ends_with("REDIS_URL")
        || matches!(
            upper.as_str(),
            "REDISCLOUD_URL" | "REDISTOGO_URL" | "REDISGREEN_URL" | "OPENREDIS_URL"
        )
        || upper.ends_with("BROKER_URL")
    {
        return VariableKind::Datastore;
    }
    if is_app_secret(&upper) {
        return VariableKind::AppSecret;
    }
    if is_own(&upper, OWN_ADDRESSES) {
        return VariableKind::OwnAddress;
    }
    if is_secret(&upper) {
        return VariableKind::Credential;
    }
    if !upper.starts_with("ALLOWED_")
        && re!(r"_(?:URL|URI|HOST|ENDPOINT|ADDR|ADDRESS)$").is_match(&upper)
    {
        return VariableKind::ServiceUrl;
    }
    VariableKind::Setting
}

fn is_app_secret(upper: &str) -> bool {
    is_own(upper, APP_SECRETS)
}

/// `upper` is one of `names`, or one behind the app's or its framework's
/// prefix.
fn is_own(upper: &str, names: &[&str]) -> bool {
    let bare = OWN_PREFIXES
        .iter()
        .find_map(|prefix| upper.strip_prefix(prefix))
        .filter(|rest| names.contains(rest));
    names.contains(&upper) || bare.is_some()
}

#[cfg(test)]
mod tests {
    use super::*;
    use VariableKind::*;

    #[test]
    fn the_apps_own_keys_are_told_from_keys_others_issue() {
        for name in [
            "SECRET_KEY",
            "DJANGO_SECRET_KEY",
            "SECRET_KEY_BASE",
            "APP_KEY",
            "JWT_SECRET",
            "session_secret",
            "NEXTAUTH_SECRET",
            "APP_JWT_SECRET",
            "ACCESS_SECRET",
            "REFRESH_SECRET",
        ] {
            assert_eq!(variable_kind(name), AppSecret, "{name}");
        }
        for name in [
            "STRIPE_SECRET_KEY",
            "OPENAI_API_KEY",
            "GITHUB_CLIENT_SECRET",
            "STRIPE_WEBHOOK_SECRET",
            "AWS_SECRET_ACCESS_KEY",
            "RAILS_MASTER_KEY",
            "ENCRYPTION_KEY",
            "ADMIN_PASSWORD",
            "SLACK_SIGNING_SECRET",
        ] {
            assert_eq!(variable_kind(name), Credential, "{name}");
        }
    }

    #[test]
    fn stores_services_ports_and_settings() {
        for name in [
            "DATABASE_URL",
            "TEST_DATABASE_URL",
            "DB_HOST",
            "POSTGRES_PASSWORD",
            "REDIS_URL",
            "CELERY_BROKER_URL",
            "MONGODB_URI",
        ] {
            assert_eq!(variable_kind(name), Datastore, "{name}");
        }
        assert_eq!(variable_kind("PORT"), Port);
        assert_eq!(variable_kind("DB_PORT"), Port);
        assert_eq!(variable_kind("PAYMENTS_API_URL"), ServiceUrl);
        assert_eq!(variable_kind("SMTP_HOST"), ServiceUrl);
        assert_eq!(variable_kind("DJANGO_ALLOWED_HOSTS"), OwnAddress);
        assert_eq!(variable_kind("BASE_URL"), OwnAddress);
        assert_eq!(variable_kind("NEXTAUTH_URL"), OwnAddress);
        assert_eq!(variable_kind("FRONT_END_BASE_URL"), ServiceUrl);
        assert_eq!(variable_kind("LOG_LEVEL"), Setting);
    }
}
