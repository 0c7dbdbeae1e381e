//! `deployflow token create|list|revoke`: the API's tokens, managed on the
//! database directly (whoever can reach the database is its administrator).

use std::str::FromStr;

use anyhow::Context;
use api::auth::Role;
use engine::Engine;

use crate::commands::{ConfigError, load_catalog, open_store};
use crate::config::Config;

#[derive(Debug, clap::Subcommand)]
pub enum TokenCommand {
    /// Create a token; its secret is printed once, as the last line.
    Create(CreateArgs),
    /// List the tokens (names, roles, dates; never secrets).
    List,
    /// Revoke a token: requests with it are refused from now on.
    Revoke {
        /// The token's name.
        name: String,
    },
}

#[derive(Debug, clap::Args)]
pub struct CreateArgs {
    /// A name for who or what uses it (`alice`, `ci`); jobs record it.
    #[arg(long)]
    pub name: String,
    /// viewer, submitter, approver or admin.
    #[arg(long)]
    pub role: String,
    /// Days until it expires (default: never).
    #[arg(long)]
    pub expires_in_days: Option<u32>,
}

pub async fn run(config: &Config, command: TokenCommand) -> anyhow::Result<()> {
    let engine = Engine::new(open_store(config).await?, load_catalog(config)?);
    match command {
        TokenCommand::Create(args) => {
            let role = Role::from_str(args.role.trim()).map_err(ConfigError)?;
            let expires_at = args
                .expires_in_days
                .map(|days| chrono::Utc::now() + chrono::Duration::days(i64::from(days)));
            let created = engine
                .create_token(args.name.trim(), role.as_str(), expires_at)
                .await
                .map_err(|e| ConfigError(e.to_string()))?;
            let until = expires_at.map_or("never expires".to_owned(), |at| {
                format!("expires {}", at.to_rfc3339())
            });
            println!(
                "created token {:?} with role {role} ({until}); it is shown only now:",
                created.record.name
            );
            println!("{}", created.secret);
        }
        TokenCommand::List => {
            let tokens = engine.tokens().await.context("listing tokens")?;
            if tokens.is_empty() {
                println!("no tokens; `deployflow token create --role admin --name NAME` makes one");
            }
            for token in tokens {
                let state = match (token.revoked_at, token.expires_at) {
                    (Some(at), _) => format!("revoked {}", at.to_rfc3339()),
                    (None, Some(at)) if at <= chrono::Utc::now() => {
                        format!("expired {}", at.to_rfc3339())
                    }
                    (None, Some(at)) => format!("expires {}", at.to_rfc3339()),
                    (None, None) => "active".to_owned(),
                };
                println!(
                    "{:<24} {:<10} created {}  {state}",
                    token.name,
                    token.role,
                    token.created_at.to_rfc3339()
                );
            }
        }
        TokenCommand::Revoke { name } => {
            if !engine.revoke_token(&name).await.context("revoking")? {
                return Err(ConfigError(format!("no active token is named {name:?}")).into());
            }
            println!("revoked token {name:?}");
        }
    }
    Ok(())
}
