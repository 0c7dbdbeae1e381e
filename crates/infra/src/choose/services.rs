//! The backing services a deployment runs beside the app: which databases
//! and caches the app needs (the description, its required variables, its
//! drivers), which of them deployflow provisions on the chosen target, and
//! which of the app's variables are wired to each. What is needed but not
//! provisioned is said, with the variables the user must give instead.

use analysis::{Analysis, Requirements};
use serde::{Deserialize, Serialize};

use super::Target;

/// A store deployflow can run beside the app.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StoreKind {
    Postgres,
    Mysql,
    Redis,
}

impl StoreKind {
    pub fn as_str(self) -> &'static str {
        match self {
            StoreKind::Postgres => "postgres",
            StoreKind::Mysql => "mysql",
            StoreKind::Redis => "redis",
        }
    }

    /// A person's name for it.
    pub fn label(self) -> &'static str {
        match self {
            StoreKind::Postgres => "PostgreSQL",
            StoreKind::Mysql => "MySQL",
            StoreKind::Redis => "Redis",
        }
    }

    fn parse(name: &str) -> Option<StoreKind> {
        match name {
            "postgres" => Some(StoreKind::Postgres),
            "mysql" => Some(StoreKind::Mysql),
            "redis" => Some(StoreKind::Redis),
            _ => None,
        }
    }

    pub fn is_sql(self) -> bool {
        self != StoreKind::Redis
    }

    /// The port it listens on.
    pub fn port(self) -> u16 {
        match self {
            StoreKind::Postgres => 5432,
            StoreKind::Mysql => 3306,
            StoreKind::Redis => 6379,
        }
    }

    /// The URL scheme of a connection URL when the app's default names none.
    pub fn default_scheme(self) -> &'static str {
        match self {
            StoreKind::Postgres => "postgresql",
            StoreKind::Mysql => "mysql",
            StoreKind::Redis => "redis",
        }
    }

    /// The JDBC subprotocol of its connection URL (`jdbc:postgresql://`).
    pub fn jdbc_subprotocol(self) -> &'static str {
        match self {
            StoreKind::Postgres => "postgresql",
            StoreKind::Mysql => "mysql",
            StoreKind::Redis => "redis",
        }
    }

    /// Laravel's `DB_CONNECTION` name for it.
    pub fn laravel_driver(self) -> &'static str {
        match self {
            StoreKind::Postgres => "pgsql",
            _ => "mysql",
        }
    }
}

/// What a wired variable carries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "part")]
pub enum Part {
    /// A connection URL; `scheme` is the one the app's own default uses
    /// (`postgresql+asyncpg`), else the store's.
    Url {
        scheme: Option<String>,
    },
    /// A JDBC URL with the user and password as its parameters
    /// (`jdbc:postgresql://host:5432/app?user=app&password=…`): Spring's
    /// `SPRING_DATASOURCE_URL`, and a variable whose default is one.
    JdbcUrl,
    Host,
    /// `host:port`, as go-redis's `Addr` takes it (`REDIS_ADDR`).
    Address,
    Port,
    User,
    Password,
    /// The database's name.
    Name,
    /// Laravel's `DB_CONNECTION` driver name (`pgsql`, `mysql`).
    Driver,
    /// A switch that turns TLS on for an app that reads its cache by host and
    /// port (`REDIS_TLS`, `REDIS_USE_SSL`): on for a managed cache, which
    /// takes TLS only, off for the one compose runs beside the app.
    Tls,
    /// A .NET connection string (`ConnectionStrings__Default`): Npgsql's
    /// and MySqlConnector's `Host=…;Database=…;Username=…;Password=…`,
    /// StackExchange.Redis's `host:port,password=…`.
    ConnectionString,
}

/// One of the app's variables set to reach a provisioned store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Wire {
    pub name: String,
    #[serde(flatten)]
    pub part: Part,
}

/// A store that runs beside the app.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackingService {
    pub kind: StoreKind,
    /// Why it is provisioned, one sentence per source.
    pub reasons: Vec<String>,
    /// The app's variables that reach it.
    pub wiring: Vec<Wire>,
    /// Runs MariaDB rather than MySQL 8.4: the app's client logs in only with
    /// `mysql_native_password`, which MariaDB still offers (compose only).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub mariadb: bool,
    /// What a URL to the store beside the app adds for the app's client
    /// (`?sslmode=disable` for lib/pq, which otherwise insists on TLS that
    /// store does not offer); compose only.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub url_query: String,
}

/// A store the app needs that deployflow does not provision here.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotProvisioned {
    /// `postgres`, `mongodb`, `dynamodb`...
    pub kind: String,
    /// The variables the user must give instead.
    pub variables: Vec<String>,
    /// Variables the app reads the store's address from, with a default in
    /// its code (localhost, most often): not asked, but what a compose file
    /// that runs the store points at it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub optional_variables: Vec<String>,
    pub reason: String,
}

/// The backing-service part of a [`Choice`](super::Choice).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServicePlan {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub provisioned: Vec<BackingService>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_provisioned: Vec<NotProvisioned>,
    /// On the VM, the provisioned stores are AWS's (RDS, ElastiCache) that
    /// its Terraform makes, not compose services beside the app: the bundle
    /// passes their variables through from what the boot script reads.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub managed_on_vm: bool,
}

impl ServicePlan {
    /// The stores AWS runs for a deployment on `target`, which its
    /// Terraform makes and its estimate prices: on the container service
    /// and Kubernetes every one, on the VM those it does not run beside the
    /// app.
    pub fn managed(&self, target: Target) -> &[BackingService] {
        match target {
            Target::ContainerService | Target::Kubernetes => &self.provisioned,
            Target::Vm if self.managed_on_vm => &self.provisioned,
            Target::Vm | Target::Serverless | Target::DockerHost => &[],
        }
    }

    pub fn is_empty(&self) -> bool {
        self.provisioned.is_empty() && self.not_provisioned.is_empty()
    }

    /// Leaves out the stores the user reaches with values of their own: a
    /// store one of whose wired variables was given with the deployment is
    /// the user's, and is not provisioned. Returns the kinds left out.
    pub fn give(&mut self, given: &[&str]) -> Vec<StoreKind> {
        let (theirs, ours): (Vec<BackingService>, Vec<BackingService>) =
            std::mem::take(&mut self.provisioned)
                .into_iter()
                .partition(|s| s.wiring.iter().any(|w| given.contains(&w.name.as_str())));
        self.provisioned = ours;
        for service in &theirs {
            let named: Vec<&str> = service
                .wiring
                .iter()
                .map(|w| w.name.as_str())
                .filter(|n| given.contains(n))
                .collect();
            self.not_provisioned.push(NotProvisioned {
                kind: service.kind.as_str().to_owned(),
                variables: Vec::new(),
                reason: format!(
                    "{} was given with the deployment: the app uses that {}, and none is provisioned.",
                    named.join(", "),
                    service.kind.label()
                ),
                optional_variables: Vec::new(),
            });
        }
        theirs.iter().map(|s| s.kind).collect()
    }

    /// The store `name` is wired to, and what it carries.
    /// What a URL to the provisioned store of `kind` adds (see
    /// [`BackingService::url_query`]).
    pub fn url_query(&self, kind: StoreKind) -> &str {
        self.provisioned
            .iter()
            .find(|s| s.kind == kind)
            .map_or("", |s| s.url_query.as_str())
    }

    pub fn wire(&self, name: &str) -> Option<(StoreKind, &Part)> {
        self.provisioned.iter().find_map(|service| {
            service
                .wiring
                .iter()
                .find(|w| w.name == name)
                .map(|w| (service.kind, &w.part))
        })
    }
}

/// Which store a variable name belongs to, as far as the name tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Owner {
    Store(StoreKind),
    /// `DATABASE_URL`, `DB_HOST`: a SQL database of a kind told elsewhere.
    AnySql,
    Other(&'static str),
}

/// The variables Laravel's stock `config/database.php` connects with.
const LARAVEL_DATABASE: [(&str, Part); 6] = [
    ("DB_CONNECTION", Part::Driver),
    ("DB_HOST", Part::Host),
    ("DB_PORT", Part::Port),
    ("DB_DATABASE", Part::Name),
    ("DB_USERNAME", Part::User),
    ("DB_PASSWORD", Part::Password),
];

/// Reads `name` as a part of a store's connection settings.
fn classify(name: &str) -> Option<(Owner, Part)> {
    let upper = name.to_ascii_uppercase();
    // ASP.NET Core's `GetConnectionString("X")`, set as `ConnectionStrings__X`.
    if let Some(key) = upper.strip_prefix("CONNECTIONSTRINGS__") {
        let words: Vec<&str> = key.split(['_', '-']).collect();
        let has = |w: &str| words.iter().any(|word| word.contains(w));
        let owner = if has("REDIS") || has("CACHE") {
            Owner::Store(StoreKind::Redis)
        } else if has("POSTGRES") || has("NPGSQL") || key == "PG" {
            Owner::Store(StoreKind::Postgres)
        } else if has("MYSQL") || has("MARIA") {
            Owner::Store(StoreKind::Mysql)
        } else if has("MONGO") {
            Owner::Other("mongodb")
        } else {
            Owner::AnySql
        };
        return Some((owner, Part::ConnectionString));
    }
    if upper == "DB_CONNECTION" {
        return Some((Owner::AnySql, Part::Driver));
    }
    // Prisma's `directUrl` by its documented name: `prisma migrate deploy`
    // fails when it is unset, and against one plain database it is the URL.
    if upper == "DIRECT_URL" {
        return Some((Owner::AnySql, Part::Url { scheme: None }));
    }
    if let Some(rest) = upper.strip_prefix("PG")
        && !rest.starts_with('_')
    {
        let part = match rest {
            "HOST" => Part::Host,
            "PORT" => Part::Port,
            "USER" => Part::User,
            "PASSWORD" => Part::Password,
            "DATABASE" => Part::Name,
            _ => return None,
        };
        return Some((Owner::Store(StoreKind::Postgres), part));
    }
    if is_redis_tls_switch(&upper) {
        return Some((Owner::Store(StoreKind::Redis), Part::Tls));
    }
    // Spring Boot binds these over `spring.datasource.*`.
    if let Some(setting) = upper.strip_prefix("SPRING_DATASOURCE_") {
        let part = match setting {
            "URL" => Part::JdbcUrl,
            "USERNAME" => Part::User,
            "PASSWORD" => Part::Password,
            _ => return None,
        };
        return Some((Owner::AnySql, part));
    }
    // Vercel's and Neon's connection variants (`POSTGRES_URL_NON_POOLING`,
    // a Prisma schema's `directUrl`; `DATABASE_URL_UNPOOLED`): against
    // one plain database each is the URL.
    if let Some((prefix, variant)) = upper.split_once("_URL_")
        && matches!(
            variant,
            "NON_POOLING" | "UNPOOLED" | "POOLED" | "NO_SSL" | "DIRECT"
        )
    {
        return Some((owner(prefix)?, Part::Url { scheme: None }));
    }
    let (prefix, last) = upper.rsplit_once('_')?;
    let owner = owner(prefix)?;
    let part = match last {
        "URL" | "URI" | "DSN" => Part::Url { scheme: None },
        // How search engines' and brokers' clients take their addresses
        // (`ELASTICSEARCH_NODE`, `KAFKA_BROKERS`).
        "NODE" | "NODES" | "HOSTS" | "BROKER" | "BROKERS" | "ENDPOINT" | "ADDR" | "ADDRESS"
            if matches!(owner, Owner::Other(_)) =>
        {
            Part::Url { scheme: None }
        }
        "HOST" | "HOSTNAME" | "SERVER" => Part::Host,
        "ADDR" | "ADDRESS" if !matches!(owner, Owner::Other(_)) => Part::Address,
        "PORT" => Part::Port,
        "USER" | "USERNAME" => Part::User,
        "PASSWORD" | "PASS" | "PWD" => Part::Password,
        "NAME" | "DATABASE" | "DB" if owner != Owner::Store(StoreKind::Redis) => Part::Name,
        _ => return None,
    };
    Some((owner, part))
}

/// `REDIS_TLS`, `REDIS_SSL`, `REDIS_USE_TLS`, `REDIS_TLS_ENABLED`,
/// `CACHE_REDIS_ENABLE_SSL`: a Redis variable that switches TLS on, not one
/// that configures it (`REDIS_TLS_CA`, `REDIS_SSL_CERT_REQS`).
fn is_redis_tls_switch(upper: &str) -> bool {
    let words: Vec<&str> = upper.split('_').collect();
    let Some(redis) = words.iter().position(|w| *w == "REDIS") else {
        return false;
    };
    matches!(
        &words[redis + 1..],
        ["TLS" | "SSL"] | ["USE" | "ENABLE", "TLS" | "SSL"] | ["TLS" | "SSL", "ENABLED"]
    )
}

fn owner(prefix: &str) -> Option<Owner> {
    let words: Vec<&str> = prefix.split('_').collect();
    let has = |w: &str| words.contains(&w);
    // Heroku's Redis add-ons name their variable after themselves.
    if has("REDIS")
        || has("REDISCLOUD")
        || has("REDISTOGO")
        || has("REDISGREEN")
        || has("OPENREDIS")
    {
        return Some(Owner::Store(StoreKind::Redis));
    }
    if has("POSTGRES") || has("POSTGRESQL") || has("PG") || has("PSQL") {
        return Some(Owner::Store(StoreKind::Postgres));
    }
    if has("MYSQL") || has("MARIADB") {
        return Some(Owner::Store(StoreKind::Mysql));
    }
    if has("MONGO") || has("MONGODB") {
        return Some(Owner::Other("mongodb"));
    }
    if has("ELASTICSEARCH") || has("ELASTIC") || has("OPENSEARCH") || words.first() == Some(&"ES") {
        return Some(Owner::Other("elasticsearch"));
    }
    if has("RABBITMQ") || has("RABBIT") || has("AMQP") {
        return Some(Owner::Other("rabbitmq"));
    }
    if has("KAFKA") {
        return Some(Owner::Other("kafka"));
    }
    // Elastic Beanstalk's `RDS_HOSTNAME`, `RDS_USERNAME`, `RDS_DB_NAME`.
    if words.first() == Some(&"RDS") {
        return Some(Owner::AnySql);
    }
    // `DATABASE_URL`, `DB_HOST`, `APP_DATABASE_URL`, `SQLALCHEMY_DATABASE_URI`,
    // TypeORM's own `TYPEORM_HOST`, `TYPEORM_USERNAME`.
    match words.last() {
        Some(&("DATABASE" | "DB" | "SQL")) => Some(Owner::AnySql),
        _ if prefix == "SQLALCHEMY" || prefix == "TYPEORM" => Some(Owner::AnySql),
        _ => None,
    }
}

/// `localhost:6379`, `redis:6379`: a host name and a port, no scheme.
fn is_host_and_port(value: &str) -> bool {
    value.rsplit_once(':').is_some_and(|(host, port)| {
        !host.is_empty()
            && !host.contains('/')
            && host
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
            && port.parse::<u16>().is_ok()
    })
}

/// The store a URL default names by its scheme (`postgresql+asyncpg://`,
/// `jdbc:mysql://`).
fn scheme_of(default: &str) -> Option<(StoreKind, String)> {
    let (scheme, _) = default.split_once("://")?;
    let subprotocol = scheme.strip_prefix("jdbc:").unwrap_or(scheme);
    let base = subprotocol.split('+').next().unwrap_or(subprotocol);
    let kind = match base {
        "postgres" | "postgresql" => StoreKind::Postgres,
        "mysql" | "mariadb" => StoreKind::Mysql,
        "redis" => StoreKind::Redis,
        _ => return None,
    };
    Some((kind, scheme.to_owned()))
}

/// Why `kind` is not provisioned on `target`, or `None` when it is: compose
/// runs it beside the app on a Docker host or the VM, and the container
/// service and Kubernetes get RDS or ElastiCache (one SQL database per
/// deployment).
fn not_provisioned_on(target: Target, kind: StoreKind, sql_taken: bool) -> Option<String> {
    match target {
        Target::DockerHost | Target::Vm => None,
        Target::ContainerService | Target::Kubernetes if kind.is_sql() && sql_taken => {
            Some(format!(
                "{} is not provisioned: the {target} target runs one managed SQL database per deployment, and this one already has one",
                kind.label()
            ))
        }
        Target::ContainerService | Target::Kubernetes => None,
        // A function reaches a store in private subnets only from inside
        // the VPC, where it has no way out without a NAT gateway (which
        // costs more than the function).
        Target::Serverless => Some(format!(
            "{} is not provisioned on the serverless target: a function inside the store's private network would need a NAT gateway to reach anything else; the container-service target runs it managed",
            kind.label()
        )),
    }
}

/// Whether the VM's provisioned stores are managed ones (RDS, ElastiCache),
/// and the sentence that says why or why not. Managed unless the user asked
/// for something cheap or for the stores on the instance, or the
/// repository's compose file sets the stores up itself, or compose runs a
/// store RDS does not offer as is (a second SQL database, MariaDB for an
/// old MySQL client).
pub(super) fn managed_on_vm(
    plan: &ServicePlan,
    analysis: &Analysis,
    requirements: &Requirements,
) -> (bool, Option<String>) {
    if plan.provisioned.is_empty() {
        return (false, None);
    }
    let labels: Vec<&str> = plan.provisioned.iter().map(|s| s.kind.label()).collect();
    let stores = labels.join(" and ");
    let beside = |why: &str| {
        (
            false,
            Some(format!(
                "{stores} run beside the app on the VM, their data on its own volume that outlives the instance and is snapshotted daily: {why}."
            )),
        )
    };
    let own_compose = analysis.docker_files.iter().any(|path| {
        let name = path.rsplit('/').next().unwrap_or(path);
        name.contains("compose") && (name.ends_with(".yml") || name.ends_with(".yaml"))
    });
    if own_compose {
        return beside("the repository's compose file sets up the services it runs with");
    }
    if plan.provisioned.iter().filter(|s| s.kind.is_sql()).count() > 1 {
        return beside("RDS runs one SQL database per deployment, and this app uses two");
    }
    if plan.provisioned.iter().any(|s| s.mariadb) {
        return beside(
            "its MySQL client needs MariaDB's mysql_native_password, which RDS for MySQL 8.4 does not offer by default",
        );
    }
    match requirements.managed_stores {
        Some(false) => return beside("you asked for them on the instance"),
        Some(true) => {}
        None if requirements.cost_sensitive => {
            return beside(
                "you asked for low cost (say \"managed database\" for RDS and ElastiCache)",
            );
        }
        None => {}
    }
    (
        true,
        Some(format!(
            "{stores} run managed by AWS (RDS, ElastiCache) in private subnets only the VM reaches, encrypted and backed up daily; the VM reads how to reach them from Secrets Manager at boot (say \"database on the same VM\" to run them beside the app instead)."
        )),
    )
}

/// Plans the backing services of `analysis` on `target`.
pub fn plan(analysis: &Analysis, requirements: &Requirements, target: Target) -> ServicePlan {
    let asked = requirements.database.as_deref();
    let asked_store = asked.and_then(StoreKind::parse);
    let used: Vec<StoreKind> = analysis
        .datastores
        .iter()
        .filter_map(|k| StoreKind::parse(k))
        .collect();
    // The driver the analysis found (`mysql+pymysql`) before the scheme of
    // a default written for another one.
    let scheme_named = |v: &analysis::EnvVar| {
        v.url_scheme
            .as_deref()
            .and_then(|scheme| scheme_of(&format!("{scheme}://")))
            .or_else(|| v.default.as_deref().and_then(scheme_of))
    };
    let scheme_of_variable = |name: &str| {
        analysis
            .env
            .iter()
            .find(|v| v.name == name)
            .and_then(scheme_named)
    };
    // Generic SQL names (`DATABASE_URL`) go to the SQL store the description
    // names, else the one the drivers name, else the one their default's
    // scheme names.
    let any_sql = asked_store
        .filter(|k| k.is_sql())
        .or_else(|| used.iter().copied().find(|k| k.is_sql()))
        .or_else(|| {
            analysis
                .env
                .iter()
                .filter(|v| matches!(classify(&v.name), Some((Owner::AnySql, _))))
                .filter_map(scheme_named)
                .map(|(kind, _)| kind)
                .find(|k| k.is_sql())
        });
    let mut wired: Vec<(StoreKind, Wire, bool)> = Vec::new();
    let mut others: Vec<(&'static str, String)> = Vec::new();
    let mut optional_others: Vec<(&'static str, String)> = Vec::new();
    let mut unknown_sql: Vec<String> = Vec::new();
    let names = analysis
        .env
        .iter()
        .map(|v| (v.name.as_str(), v.required))
        .chain(
            analysis
                .required_env
                .iter()
                .filter(|n| !analysis.env.iter().any(|v| &v.name == *n))
                .map(|n| (n.as_str(), true)),
        );
    for (name, required) in names {
        let Some((owner, mut part)) = classify(name) else {
            continue;
        };
        let kind = match owner {
            Owner::Store(kind) => kind,
            Owner::AnySql => match any_sql {
                Some(kind) => kind,
                None => {
                    if required {
                        unknown_sql.push(name.to_owned());
                    }
                    continue;
                }
            },
            Owner::Other(kind) => {
                if required {
                    others.push((kind, name.to_owned()));
                } else {
                    optional_others.push((kind, name.to_owned()));
                }
                continue;
            }
        };
        if let Part::Url { scheme } = &mut part {
            *scheme = scheme_of_variable(name)
                .filter(|(k, _)| *k == kind)
                .map(|(_, s)| s);
            let jdbc = analysis
                .env
                .iter()
                .find(|v| v.name == name)
                .and_then(|v| v.url_scheme.as_deref())
                .is_some_and(|s| s == "jdbc" || s.starts_with("jdbc:"));
            if jdbc && kind.is_sql() {
                part = Part::JdbcUrl;
            }
        }
        // `REDIS_HOST=localhost:6379`: the app takes its host with the port.
        let default = analysis
            .env
            .iter()
            .find(|v| v.name == name)
            .and_then(|v| v.default.as_deref());
        if part == Part::Host && default.is_some_and(is_host_and_port) {
            part = Part::Address;
        }
        // `${POSTGRES_DB:jdbc:postgresql://localhost:5432/app}`: whatever
        // its name says, the app reads a URL from it.
        if !matches!(part, Part::Url { .. } | Part::JdbcUrl)
            && let Some((of, scheme)) = default.and_then(scheme_of)
            && of == kind
        {
            part = if scheme.starts_with("jdbc:") {
                Part::JdbcUrl
            } else {
                Part::Url {
                    scheme: Some(scheme),
                }
            };
        }
        wired.push((
            kind,
            Wire {
                name: name.to_owned(),
                part,
            },
            required,
        ));
    }
    let mut plan = ServicePlan::default();
    for kind in [StoreKind::Postgres, StoreKind::Mysql, StoreKind::Redis] {
        let wiring: Vec<&(StoreKind, Wire, bool)> =
            wired.iter().filter(|(k, _, _)| *k == kind).collect();
        let required: Vec<&str> = wiring
            .iter()
            .filter(|(_, _, required)| *required)
            .map(|(_, w, _)| w.name.as_str())
            .collect();
        let mut reasons = Vec::new();
        if asked_store == Some(kind) {
            reasons.push(format!("The description asks for {}.", kind.label()));
        }
        if !required.is_empty() {
            reasons.push(format!(
                "The app needs {} to reach {}.",
                required.join(", "),
                kind.label()
            ));
        }
        if reasons.is_empty() {
            // The drivers name it, and no variable points at it: its
            // address is written in the code or a configuration file.
            // A second SQL driver beside the database provisioned (Spring's
            // profiles for PostgreSQL and MySQL) is an alternative, not a need.
            let other_sql_wired = kind.is_sql() && plan.provisioned.iter().any(|s| s.kind.is_sql());
            if wiring.is_empty() && used.contains(&kind) && !other_sql_wired {
                plan.not_provisioned.push(NotProvisioned {
                    kind: kind.as_str().to_owned(),
                    variables: Vec::new(),
                    reason: format!(
                        "The app uses {} (its driver is among the dependencies) but reads no variable for its address: its code or a configuration file names one (localhost, most often), which nothing in the deployment answers. Make the address a variable the app reads ({}), or ask for the store in the description and point the app's configuration at it.",
                        kind.label(),
                        if kind.is_sql() { "DATABASE_URL" } else { "REDIS_URL" }
                    ),
                    optional_variables: Vec::new(),
                });
            }
            continue;
        }
        if used.contains(&kind) {
            reasons.push(format!(
                "Its dependencies include a {} client.",
                kind.label()
            ));
        }
        let mut wiring: Vec<Wire> = wiring.iter().map(|(_, w, _)| w.clone()).collect();
        let spring = analysis.framework.as_deref() == Some("spring-boot");
        if wiring.is_empty() && kind.is_sql() && spring && used.contains(&kind) {
            // Spring Boot binds `SPRING_DATASOURCE_URL` over any
            // configuration file's datasource (petclinic's is H2 unless a
            // profile says otherwise); no app reads `DATABASE_URL`.
            reasons.push(
                "Spring Boot reads its datasource from SPRING_DATASOURCE_URL, which overrides the configuration files' (a JDBC URL carrying the user and password).".to_owned(),
            );
            wiring.push(Wire {
                name: "SPRING_DATASOURCE_URL".to_owned(),
                part: Part::JdbcUrl,
            });
        }
        if kind.is_sql() && analysis.framework.as_deref() == Some("laravel") {
            // Laravel's own config/database.php reads these, with local
            // defaults (127.0.0.1, root) that reach nothing; Laravel 11's
            // `.env.example` leaves all but DB_CONNECTION commented out.
            for (name, part) in LARAVEL_DATABASE {
                if !wiring.iter().any(|w| w.name == name) {
                    wiring.push(Wire {
                        name: name.to_owned(),
                        part: part.clone(),
                    });
                }
            }
        }
        if wiring.is_empty() {
            let name = if kind.is_sql() {
                "DATABASE_URL"
            } else {
                "REDIS_URL"
            };
            reasons.push(format!(
                "The app reads no variable deployflow recognises for it: {name} is set, the name most libraries read."
            ));
            wiring.push(Wire {
                name: name.to_owned(),
                part: Part::Url { scheme: None },
            });
        }
        let sql_taken = plan.provisioned.iter().any(|s| s.kind.is_sql());
        if let Some(why) = not_provisioned_on(target, kind, sql_taken) {
            plan.not_provisioned.push(NotProvisioned {
                kind: kind.as_str().to_owned(),
                variables: wiring.iter().map(|w| w.name.clone()).collect(),
                reason: format!(
                    "{why}: give {} with the deployment (a managed database's address), or deploy on a Docker host, a VM or the container service, where deployflow runs it.",
                    wiring.iter().map(|w| w.name.as_str()).collect::<Vec<_>>().join(", ")
                ),
                optional_variables: Vec::new(),
            });
            continue;
        }
        let mariadb = kind == StoreKind::Mysql
            && analysis.mysql_native_password
            && matches!(target, Target::DockerHost | Target::Vm);
        if mariadb {
            reasons.push(
                "Its MySQL client logs in only with mysql_native_password, which MySQL 8.4 no longer offers: MariaDB, which speaks MySQL's protocol and still does, runs instead.".to_owned(),
            );
        }
        let plain_tls_off = kind == StoreKind::Postgres
            && analysis.postgres_tls_by_default
            && matches!(target, Target::DockerHost | Target::Vm);
        if plain_tls_off {
            reasons.push(
                "Its client (lib/pq) insists on TLS unless told otherwise, and the database beside it speaks plain TCP on the private network: its URL says sslmode=disable.".to_owned(),
            );
        }
        plan.provisioned.push(BackingService {
            kind,
            reasons,
            wiring,
            mariadb,
            url_query: if plain_tls_off {
                "?sslmode=disable".to_owned()
            } else {
                String::new()
            },
        });
    }
    let mut unsupported: Vec<(String, Vec<String>)> = Vec::new();
    if let Some(asked) = asked.filter(|a| StoreKind::parse(a).is_none() && *a != "sqlite") {
        unsupported.push((asked.to_owned(), Vec::new()));
    }
    for (kind, name) in others {
        match unsupported.iter_mut().find(|(k, _)| k == kind) {
            Some((_, names)) => names.push(name),
            None => unsupported.push((kind.to_owned(), vec![name])),
        }
    }
    // A store the drivers name that no variable points at: its address is
    // written in the code (a localhost default, most often), which nothing
    // in a container answers.
    let in_code: Vec<String> = analysis
        .datastores
        .iter()
        .filter(|k| StoreKind::parse(k).is_none() && k.as_str() != "sqlite")
        .filter(|k| !unsupported.iter().any(|(kind, _)| kind == *k))
        .cloned()
        .collect();
    for kind in in_code {
        let optional: Vec<&str> = optional_others
            .iter()
            .filter(|(k, _)| *k == kind)
            .map(|(_, name)| name.as_str())
            .collect();
        let reason = if optional.is_empty() {
            format!(
                "The app uses {kind} (its driver is among the dependencies), which deployflow does not provision, and reads no variable for its address: its code names one (localhost, most often), which nothing in the deployment answers. Make the address a variable and give it with the deployment, pointing at a {kind} you run or rent."
            )
        } else {
            // Listed in the reason only: the variables are not required, so
            // the user is told rather than asked.
            format!(
                "The app uses {kind} (its driver is among the dependencies), which deployflow does not provision. It reads its address from {}, whose default in the code (localhost, most often) nothing in the deployment answers: give {} with the deployment, pointing at a {kind} you run or rent.",
                optional.join(", "),
                if optional.len() == 1 { "it" } else { "them" }
            )
        };
        plan.not_provisioned.push(NotProvisioned {
            reason,
            optional_variables: optional.iter().map(|n| (*n).to_owned()).collect(),
            kind,
            variables: Vec::new(),
        });
    }
    for (kind, variables) in unsupported {
        let optional_variables = optional_others
            .iter()
            .filter(|(k, _)| *k == kind)
            .map(|(_, name)| name.clone())
            .collect();
        let give = if variables.is_empty() {
            "give its address in the variable the app reads".to_owned()
        } else {
            format!("give {}", variables.join(", "))
        };
        plan.not_provisioned.push(NotProvisioned {
            reason: format!(
                "{kind} is not provisioned by deployflow (it provisions PostgreSQL, MySQL and Redis; search engines, message brokers and document stores are the user's): {give} with the deployment, pointing at one you run or rent."
            ),
            kind,
            variables,
            optional_variables,
        });
    }
    if !unknown_sql.is_empty() {
        plan.not_provisioned.push(NotProvisioned {
            kind: "sql".to_owned(),
            reason: format!(
                "The app needs {} but nothing says which database it is (no driver, no scheme in a default, no database in the description): give the value with the deployment, or name the database in the description (\"with postgres\").",
                unknown_sql.join(", ")
            ),
            variables: unknown_sql,
            optional_variables: Vec::new(),
        });
    }
    plan
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// An app reading `env` (name, required, default) and using `stores`.
    fn app(env: &[(&str, bool, Option<&str>)], stores: &[&str]) -> Analysis {
        let env: Vec<_> = env
            .iter()
            .map(|(name, required, default)| {
                json!({"name": name, "required": required, "secret": false, "default": default})
            })
            .collect();
        serde_json::from_value(json!({
            "http": true, "subdir": ".", "bind": {"loopback_only": false},
            "required_env": [], "env": env, "dockerized": false,
            "docker_files": [], "evidence": [], "datastores": stores,
        }))
        .expect("an analysis")
    }

    fn asking(database: Option<&str>) -> Requirements {
        Requirements {
            database: database.map(str::to_owned),
            ..Requirements::default()
        }
    }

    #[test]
    fn a_redis_tls_switch_is_wired_and_its_settings_are_not() {
        for name in [
            "REDIS_TLS",
            "REDIS_SSL",
            "REDIS_USE_TLS",
            "REDIS_ENABLE_SSL",
            "REDIS_TLS_ENABLED",
            "CACHE_REDIS_SSL",
        ] {
            assert_eq!(
                classify(name),
                Some((Owner::Store(StoreKind::Redis), Part::Tls)),
                "{name}"
            );
        }
        for name in ["REDIS_TLS_CA", "REDIS_SSL_CERT_REQS", "DB_SSL", "TLS"] {
            assert_ne!(
                classify(name).map(|(_, part)| part),
                Some(Part::Tls),
                "{name}"
            );
        }
        let analysis = app(
            &[
                ("REDIS_HOST", true, None),
                ("REDIS_PORT", false, Some("6379")),
                ("REDIS_TLS", false, Some("false")),
            ],
            &["redis"],
        );
        let plan = plan(&analysis, &asking(None), Target::ContainerService);
        assert_eq!(plan.wire("REDIS_TLS"), Some((StoreKind::Redis, &Part::Tls)));
    }

    #[test]
    fn spring_gets_a_jdbc_url_and_its_own_user_and_password() {
        let analysis = app(
            &[
                ("SPRING_DATASOURCE_URL", true, None),
                ("SPRING_DATASOURCE_USERNAME", true, None),
                ("SPRING_DATASOURCE_PASSWORD", true, None),
            ],
            &["postgres"],
        );
        let wired = plan(&analysis, &asking(None), Target::DockerHost);
        let postgres = |part| Some((StoreKind::Postgres, part));
        assert_eq!(
            wired.wire("SPRING_DATASOURCE_URL"),
            postgres(&Part::JdbcUrl)
        );
        assert_eq!(
            wired.wire("SPRING_DATASOURCE_USERNAME"),
            postgres(&Part::User)
        );
        assert_eq!(
            wired.wire("SPRING_DATASOURCE_PASSWORD"),
            postgres(&Part::Password)
        );

        // A variable the datasource URL is made of, and one whose default
        // is a JDBC URL, whatever their names say.
        let mut analysis = app(
            &[
                ("MYSQL_URL", true, None),
                (
                    "REPORTS_DB_URL",
                    false,
                    Some("jdbc:mysql://localhost:3306/reports"),
                ),
            ],
            &[],
        );
        analysis.env[0].url_scheme = Some("jdbc".into());
        analysis.env[1].url_scheme = Some("jdbc:mysql".into());
        let wired = plan(&analysis, &asking(None), Target::DockerHost);
        assert_eq!(
            wired.wire("MYSQL_URL"),
            Some((StoreKind::Mysql, &Part::JdbcUrl))
        );
        assert_eq!(
            wired.wire("REPORTS_DB_URL"),
            Some((StoreKind::Mysql, &Part::JdbcUrl))
        );
    }

    #[test]
    fn a_required_url_with_a_driver_is_provisioned_and_wired() {
        let analysis = app(
            &[
                ("DATABASE_URL", true, None),
                ("REDIS_URL", true, None),
                ("SECRET_KEY", true, None),
            ],
            &["postgres", "redis"],
        );
        let plan = plan(&analysis, &asking(None), Target::DockerHost);
        let kinds: Vec<StoreKind> = plan.provisioned.iter().map(|s| s.kind).collect();
        assert_eq!(kinds, [StoreKind::Postgres, StoreKind::Redis]);
        assert_eq!(
            plan.wire("DATABASE_URL"),
            Some((StoreKind::Postgres, &Part::Url { scheme: None }))
        );
        assert_eq!(plan.wire("SECRET_KEY"), None);
        assert!(plan.not_provisioned.is_empty());
        assert!(plan.provisioned[0].reasons[0].contains("DATABASE_URL"));
    }

    /// Each wired variable of `service` with the part it carries, in order.
    fn wired(service: &BackingService) -> Vec<(&str, &Part)> {
        service
            .wiring
            .iter()
            .map(|w| (w.name.as_str(), &w.part))
            .collect()
    }

    /// TypeORM reads its connection from `TYPEORM_*` when it has no config
    /// file (w3tecch's express-typescript-boilerplate).
    #[test]
    fn typeorm_variables_are_wired_to_the_sql_store() {
        let analysis = app(
            &[
                ("TYPEORM_HOST", true, None),
                ("TYPEORM_PORT", false, Some("5432")),
                ("TYPEORM_USERNAME", true, None),
                ("TYPEORM_PASSWORD", true, None),
                ("TYPEORM_DATABASE", true, None),
            ],
            &["postgres"],
        );
        let plan = plan(&analysis, &asking(None), Target::Vm);
        assert_eq!(plan.provisioned.len(), 1);
        assert_eq!(
            wired(&plan.provisioned[0]),
            [
                ("TYPEORM_HOST", &Part::Host),
                ("TYPEORM_PORT", &Part::Port),
                ("TYPEORM_USERNAME", &Part::User),
                ("TYPEORM_PASSWORD", &Part::Password),
                ("TYPEORM_DATABASE", &Part::Name),
            ]
        );
    }

    #[test]
    fn elastic_beanstalks_rds_variables_are_wired() {
        let rails = app(
            &[
                ("RDS_DB_NAME", true, None),
                ("RDS_HOSTNAME", true, None),
                ("RDS_USERNAME", true, None),
                ("RDS_PASSWORD", true, None),
                ("RDS_PORT", false, None),
            ],
            &["postgres"],
        );
        let plan = plan(&rails, &asking(None), Target::DockerHost);
        assert_eq!(
            wired(&plan.provisioned[0]),
            [
                ("RDS_DB_NAME", &Part::Name),
                ("RDS_HOSTNAME", &Part::Host),
                ("RDS_USERNAME", &Part::User),
                ("RDS_PASSWORD", &Part::Password),
                ("RDS_PORT", &Part::Port),
            ]
        );
    }

    #[test]
    fn laravel_gets_every_variable_its_database_config_reads() {
        // Laravel 11's `.env.example`: only DB_CONNECTION is uncommented.
        let mut laravel = app(&[("DB_CONNECTION", false, Some("sqlite"))], &[]);
        laravel.framework = Some("laravel".into());
        let plan = plan(&laravel, &asking(Some("mysql")), Target::DockerHost);
        assert_eq!(plan.provisioned.len(), 1);
        assert_eq!(
            wired(&plan.provisioned[0]),
            [
                ("DB_CONNECTION", &Part::Driver),
                ("DB_HOST", &Part::Host),
                ("DB_PORT", &Part::Port),
                ("DB_DATABASE", &Part::Name),
                ("DB_USERNAME", &Part::User),
                ("DB_PASSWORD", &Part::Password),
            ]
        );
    }

    #[test]
    fn split_variables_are_wired_part_by_part_and_keep_the_apps_scheme() {
        let analysis = app(
            &[
                ("DB_HOST", true, None),
                ("DB_PORT", false, Some("3306")),
                ("DB_USERNAME", true, None),
                ("DB_PASSWORD", true, None),
                ("DB_DATABASE", true, None),
                ("DB_CONNECTION", false, Some("mysql")),
                ("PGHOST", false, Some("db.example.org")),
                ("ANALYTICS_WAREHOUSE_URL", false, Some("x")),
            ],
            &["mysql"],
        );
        let plan = plan(&analysis, &asking(None), Target::Vm);
        assert_eq!(plan.provisioned.len(), 1);
        let mysql = &plan.provisioned[0];
        assert_eq!(mysql.kind, StoreKind::Mysql);
        assert_eq!(
            wired(mysql),
            [
                ("DB_HOST", &Part::Host),
                ("DB_PORT", &Part::Port),
                ("DB_USERNAME", &Part::User),
                ("DB_PASSWORD", &Part::Password),
                ("DB_DATABASE", &Part::Name),
                ("DB_CONNECTION", &Part::Driver),
            ]
        );

        let asyncpg = app(
            &[(
                "DATABASE_URL",
                true,
                Some("postgresql+asyncpg://localhost/app"),
            )],
            &[],
        );
        let plan = super::plan(&asyncpg, &asking(None), Target::DockerHost);
        assert_eq!(
            plan.wire("DATABASE_URL"),
            Some((
                StoreKind::Postgres,
                &Part::Url {
                    scheme: Some("postgresql+asyncpg".into())
                }
            ))
        );
    }

    #[test]
    fn a_client_without_caching_sha2_gets_mariadb_where_compose_runs_it() {
        let mut analysis = app(&[("DATABASE_URL", true, None)], &["mysql"]);
        analysis.mysql_native_password = true;
        for (target, mariadb) in [
            (Target::DockerHost, true),
            (Target::Vm, true),
            (Target::ContainerService, false),
        ] {
            let plan = plan(&analysis, &asking(None), target);
            assert_eq!(plan.provisioned.len(), 1, "{target}");
            assert_eq!(plan.provisioned[0].kind, StoreKind::Mysql);
            assert_eq!(plan.provisioned[0].mariadb, mariadb, "{target}");
        }
        analysis.mysql_native_password = false;
        let plan = plan(&analysis, &asking(None), Target::Vm);
        assert!(!plan.provisioned[0].mariadb);
    }

    #[test]
    fn a_store_the_drivers_name_and_no_variable_reaches_is_said() {
        let analysis = app(&[("GIN_MODE", false, Some("release"))], &["mysql", "redis"]);
        let plan = plan(&analysis, &asking(None), Target::Vm);
        assert!(plan.provisioned.is_empty());
        let kinds: Vec<&str> = plan
            .not_provisioned
            .iter()
            .map(|n| n.kind.as_str())
            .collect();
        assert_eq!(kinds, ["mysql", "redis"]);
        assert!(
            plan.not_provisioned[0]
                .reason
                .contains("reads no variable for its address")
        );
        // An optional variable that reaches it is the app's own choice.
        let optional = app(
            &[("REDIS_URL", false, Some("redis://localhost:6379"))],
            &["redis"],
        );
        assert!(plan_of(&optional).not_provisioned.is_empty());
    }

    fn plan_of(analysis: &Analysis) -> ServicePlan {
        plan(analysis, &asking(None), Target::Vm)
    }

    #[test]
    fn the_description_provisions_even_when_the_app_names_no_variable() {
        let plan = plan(
            &app(&[], &[]),
            &asking(Some("postgres")),
            Target::DockerHost,
        );
        assert_eq!(plan.provisioned.len(), 1);
        assert_eq!(
            plan.wire("DATABASE_URL"),
            Some((StoreKind::Postgres, &Part::Url { scheme: None }))
        );
        assert!(plan.provisioned[0].reasons[0].contains("description"));
    }

    #[test]
    fn a_store_the_user_gives_a_value_for_is_theirs() {
        let analysis = app(
            &[("DATABASE_URL", true, None), ("REDIS_URL", true, None)],
            &["postgres", "redis"],
        );
        let mut plan = plan(&analysis, &asking(None), Target::DockerHost);
        assert_eq!(plan.give(&["DATABASE_URL", "OTHER"]), [StoreKind::Postgres]);
        assert_eq!(plan.provisioned.len(), 1);
        assert_eq!(plan.wire("DATABASE_URL"), None);
        assert!(
            plan.not_provisioned[0]
                .reason
                .starts_with("DATABASE_URL was given")
        );
    }

    #[test]
    fn the_container_service_gets_one_managed_sql_database_and_a_cache() {
        let analysis = app(
            &[
                ("DATABASE_URL", true, None),
                ("MYSQL_HOST", true, None),
                ("REDIS_URL", true, None),
            ],
            &["postgres", "mysql", "redis"],
        );
        let plan = plan(&analysis, &asking(None), Target::ContainerService);
        let kinds: Vec<StoreKind> = plan.provisioned.iter().map(|s| s.kind).collect();
        assert_eq!(kinds, [StoreKind::Postgres, StoreKind::Redis]);
        assert_eq!(plan.not_provisioned.len(), 1, "{plan:?}");
        assert_eq!(plan.not_provisioned[0].kind, "mysql");
        assert_eq!(plan.not_provisioned[0].variables, ["MYSQL_HOST"]);
        assert!(
            plan.not_provisioned[0]
                .reason
                .contains("one managed SQL database per deployment"),
            "{}",
            plan.not_provisioned[0].reason
        );
    }

    #[test]
    fn prismas_direct_url_is_wired_with_the_database_url() {
        let analysis = app(
            &[("DATABASE_URL", true, None), ("DIRECT_URL", false, None)],
            &["postgres"],
        );
        let plan = plan(&analysis, &asking(None), Target::DockerHost);
        let wired: Vec<&str> = plan.provisioned[0]
            .wiring
            .iter()
            .map(|w| w.name.as_str())
            .collect();
        assert_eq!(wired, ["DATABASE_URL", "DIRECT_URL"]);
    }

    #[test]
    fn an_optional_variable_with_its_own_default_provisions_nothing() {
        let analysis = app(&[("DATABASE_URL", false, Some("sqlite:///app.db"))], &[]);
        assert!(plan(&analysis, &asking(None), Target::DockerHost).is_empty());
    }

    #[test]
    fn a_store_whose_address_is_in_the_code_is_said_not_provisioned() {
        let in_code = app(&[], &["mongodb"]);
        let plan = plan(&in_code, &asking(None), Target::DockerHost);
        assert_eq!(plan.not_provisioned.len(), 1, "{plan:?}");
        assert_eq!(plan.not_provisioned[0].kind, "mongodb");
        assert!(
            plan.not_provisioned[0].reason.contains("reads no variable"),
            "{}",
            plan.not_provisioned[0].reason
        );
    }

    #[test]
    fn an_address_variable_gets_the_host_and_the_port() {
        let analysis = app(
            &[
                ("REDIS_ADDR", true, None),
                ("CACHE_REDIS_HOST", true, Some("localhost:6379")),
            ],
            &["redis"],
        );
        let plan = plan(&analysis, &asking(None), Target::DockerHost);
        assert_eq!(
            wired(&plan.provisioned[0]),
            [
                ("REDIS_ADDR", &Part::Address),
                ("CACHE_REDIS_HOST", &Part::Address)
            ]
        );
    }

    #[test]
    fn pooled_and_direct_url_variants_are_the_databases_url() {
        for name in [
            "POSTGRES_URL_NON_POOLING",
            "DATABASE_URL_UNPOOLED",
            "POSTGRES_URL_NO_SSL",
        ] {
            assert!(
                matches!(classify(name), Some((_, Part::Url { .. }))),
                "{name}"
            );
        }
        assert_eq!(classify("POSTGRES_URL_SECRET_THING"), None);
    }

    #[test]
    fn a_variable_whose_default_is_a_url_is_handed_a_url_whatever_its_name() {
        let analysis = app(
            &[
                (
                    "POSTGRES_DB",
                    false,
                    Some("jdbc:postgresql://localhost:5432/postgres"),
                ),
                ("POSTGRES_USER", false, Some("postgres")),
            ],
            &["postgres"],
        );
        let plan = plan(&analysis, &asking(Some("postgres")), Target::Vm);
        let wiring = &plan.provisioned[0].wiring;
        assert_eq!(wiring[0].name, "POSTGRES_DB");
        assert_eq!(wiring[0].part, Part::JdbcUrl);
        assert_eq!(wiring[1].part, Part::User);
    }

    #[test]
    fn asp_net_connection_strings_are_wired_by_their_name() {
        for (name, owner) in [
            (
                "ConnectionStrings__PostgreSQL",
                Owner::Store(StoreKind::Postgres),
            ),
            ("ConnectionStrings__MySQL", Owner::Store(StoreKind::Mysql)),
            ("ConnectionStrings__Redis", Owner::Store(StoreKind::Redis)),
            ("ConnectionStrings__DefaultConnection", Owner::AnySql),
        ] {
            assert_eq!(
                classify(name),
                Some((owner, Part::ConnectionString)),
                "{name}"
            );
        }
    }

    #[test]
    fn a_redis_add_ons_url_is_the_caches() {
        for name in ["REDISCLOUD_URL", "REDISTOGO_URL", "REDISGREEN_URL"] {
            assert_eq!(
                classify(name),
                Some((Owner::Store(StoreKind::Redis), Part::Url { scheme: None })),
                "{name}"
            );
        }
    }

    #[test]
    fn search_engines_and_brokers_are_said_not_provisioned_with_their_variables() {
        let analysis = app(
            &[
                ("ELASTICSEARCH_NODE", true, None),
                ("KAFKA_BROKERS", true, None),
                ("RABBITMQ_URL", false, Some("amqp://localhost")),
            ],
            &["elasticsearch", "kafka", "rabbitmq"],
        );
        let plan = plan(&analysis, &asking(None), Target::DockerHost);
        assert!(plan.provisioned.is_empty(), "{plan:?}");
        let need = |kind: &str| {
            plan.not_provisioned
                .iter()
                .find(|n| n.kind == kind)
                .unwrap_or_else(|| panic!("{kind} not said: {plan:?}"))
        };
        assert_eq!(need("elasticsearch").variables, ["ELASTICSEARCH_NODE"]);
        assert!(
            need("elasticsearch")
                .reason
                .contains("give ELASTICSEARCH_NODE")
        );
        assert_eq!(need("kafka").variables, ["KAFKA_BROKERS"]);
        // Optional with a localhost default: told, not asked.
        let rabbit = need("rabbitmq");
        assert!(rabbit.variables.is_empty());
        assert!(
            rabbit
                .reason
                .contains("reads its address from RABBITMQ_URL")
                && !rabbit.reason.contains("reads no variable"),
            "{}",
            rabbit.reason
        );
    }

    #[test]
    fn what_is_not_provisioned_is_said_with_the_variables_to_give() {
        let mongo = app(&[("MONGO_URL", true, None)], &["mongodb"]);
        let plan = plan(&mongo, &asking(Some("mongodb")), Target::DockerHost);
        assert!(plan.provisioned.is_empty());
        assert_eq!(plan.not_provisioned.len(), 1);
        assert_eq!(plan.not_provisioned[0].variables, ["MONGO_URL"]);
        assert!(plan.not_provisioned[0].reason.contains("give MONGO_URL"));

        let postgres = app(&[("DATABASE_URL", true, None)], &["postgres"]);
        let serverless = super::plan(&postgres, &asking(None), Target::Serverless);
        assert!(serverless.provisioned.is_empty());
        assert_eq!(serverless.not_provisioned[0].variables, ["DATABASE_URL"]);
        let reason = &serverless.not_provisioned[0].reason;
        assert!(
            reason.contains("serverless") && reason.contains("NAT gateway"),
            "{reason}"
        );
        // Kubernetes runs it managed, as the container service does.
        let kubernetes = super::plan(&postgres, &asking(None), Target::Kubernetes);
        assert_eq!(kubernetes.provisioned.len(), 1);
        assert!(kubernetes.not_provisioned.is_empty());

        let unknown = app(&[("DATABASE_URL", true, None)], &[]);
        let unknown = super::plan(&unknown, &asking(None), Target::DockerHost);
        assert!(unknown.provisioned.is_empty());
        assert_eq!(unknown.not_provisioned[0].kind, "sql");
    }
}
