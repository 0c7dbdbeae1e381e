use serde::{Deserialize, Serialize};

/// The user's one-sentence deployment requirements, in structured form.
/// Every field is optional: a description that says nothing leaves the
/// defaults to the deployment choice.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Requirements {
    /// The user asked for something cheap / minimal cost.
    pub cost_sensitive: bool,
    /// The user asked for high availability / redundancy / zero downtime.
    pub high_availability: bool,
    /// Expected load: `low`, `medium` or `high`, when said.
    pub expected_load: Option<String>,
    /// Wants to scale to zero when idle (serverless hint).
    pub scale_to_zero: bool,
    /// A database named: `postgres`, `mysql`, `redis`, `mongodb`...
    pub database: Option<String>,
    /// Where the stores run on a VM: `Some(true)` for AWS's managed ones
    /// ("managed database", "RDS"), `Some(false)` beside the app on the
    /// instance ("database on the same VM", "self-hosted postgres").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub managed_stores: Option<bool>,
    /// An AWS region named (e.g. `us-east-1`) or implied (e.g. "in Canada").
    pub region: Option<String>,
    /// An instance size or type named (`t3.micro`, `small`, `large`).
    pub size: Option<String>,
    /// A target named outright: `vm`, `container-service`, `serverless`, `kubernetes`.
    pub target: Option<String>,
    /// The app the user means, in a repository that holds several.
    pub app_hint: Option<String>,
    /// A folder of the repository the description names ("in samples/go/",
    /// "the `blog` folder"): the app there is deployed even when its folder
    /// is one whose contents are otherwise left out (examples, samples).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_dir: Option<String>,
    /// The phrases each requirement was read from.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub evidence: Vec<String>,
}

/// Reads a one-sentence description by rules: words for cost, availability,
/// load, databases, regions, sizes, targets and which app is meant. Every
/// requirement found records the phrase it came from.
pub(crate) fn parse(description: &str) -> Requirements {
    let text = description.trim();
    let lower = text.to_lowercase();
    let mut r = Requirements::default();
    let said = r_evidence;

    if let Some(m) = find(
        &lower,
        re!(
            r"\b(?:cheap(?:est|ly)?|budget|low[- ]cost|lowest cost|inexpensive|affordable|cost[- ](?:effective|efficient|conscious|sensitive)|minimal cost|free[- ]tier|as little as possible|hobby|side project|shoestring|frugal|save money)\b"
        ),
    ) {
        r.cost_sensitive = true;
        r.evidence.push(said(m, "cost-sensitive"));
    }
    if let Some(m) = find(
        &lower,
        re!(
            r"\b(?:highly[- ]available|high[- ]availability|\bha\b|redundan(?:t|cy)|fault[- ]toleran(?:t|ce)|multi[- ]az|zero[- ]downtime|no downtime|failover|resilient|always[- ]on|mission[- ]critical|99\.9+%?)"
        ),
    ) {
        r.high_availability = true;
        r.evidence.push(said(m, "high availability"));
    }
    if let Some((m, load)) = load(&lower) {
        r.expected_load = Some(load.to_owned());
        r.evidence.push(said(m, &format!("{load} load")));
    }
    if let Some(m) = find(
        &lower,
        re!(
            r"\b(?:scale[sd]? to zero|serverless|pay[- ]per[- ](?:request|use)|idle most of the time|sporadic|occasional(?:ly)? used)\b"
        ),
    ) {
        r.scale_to_zero = true;
        r.evidence.push(said(m, "scale to zero"));
    }
    if let Some((m, db)) = database(&lower) {
        r.database = Some(db.to_owned());
        r.evidence.push(said(m, db));
    }
    if let Some((m, managed)) = managed_stores(&lower) {
        r.managed_stores = Some(managed);
        let meaning = if managed {
            "managed stores"
        } else {
            "stores on the instance"
        };
        r.evidence.push(said(m, meaning));
    }
    if let Some((m, region)) = region(text, &lower) {
        r.evidence.push(said(&m, &region));
        r.region = Some(region);
    }
    if let Some((m, size)) = size(&lower) {
        r.size = Some(size.clone());
        r.evidence.push(said(m, &size));
    }
    if let Some((m, target)) = target(&lower) {
        r.target = Some(target.to_owned());
        r.evidence.push(said(m, target));
    }
    if let Some((m, hint)) = app_hint(&lower) {
        r.evidence.push(said(m, &format!("app \"{hint}\"")));
        r.app_hint = Some(hint);
    }
    if let Some((m, dir)) = app_dir(text) {
        r.evidence.push(said(m, &format!("folder \"{dir}\"")));
        r.app_dir = Some(dir);
    }
    r
}

/// Whether the stores should be AWS's managed ones or run beside the app,
/// when the description says.
fn managed_stores(lower: &str) -> Option<(&str, bool)> {
    let beside = re!(
        r"\b(?:self[- ]hosted (?:db|database|postgres(?:ql)?|mysql|mariadb|redis)|(?:db|database|postgres(?:ql)?|mysql|mariadb|redis|stores?|cache) (?:running |that runs |runs )?(?:on|in) (?:the same|one|a single|the) (?:vm|instance|server|machine|box|host)|(?:without|no) (?:rds|managed (?:db|database)s?))\b"
    );
    if let Some(m) = beside.find(lower) {
        return Some((m.as_str(), false));
    }
    let managed = re!(
        r"\b(?:rds|aurora|elasticache|managed (?:db|database|postgres(?:ql)?|mysql|mariadb|redis|cache|stores?)s?)\b"
    );
    find(lower, managed).map(|m| (m, true))
}

fn r_evidence(phrase: &str, meaning: &str) -> String {
    format!("\"{phrase}\" → {meaning}")
}

/// The first match not negated by a word just before it ("not cheap",
/// "no database", "doesn't need HA").
fn find<'t>(text: &'t str, re: &regex::Regex) -> Option<&'t str> {
    re.find_iter(text)
        .find(|m| !negated(text, m.start()))
        .map(|m| m.as_str())
}

fn negated(text: &str, start: usize) -> bool {
    let before = &text[..start];
    re!(r"\b(?:no|not|don'?t|doesn'?t|without|never|nor|isn'?t|needn'?t)\s+(?:\w+\s+){0,3}$")
        .is_match(before)
}

fn load(lower: &str) -> Option<(&str, &'static str)> {
    let levels: [(&regex::Regex, &'static str); 3] = [
        (
            re!(
                r"\b(?:high|heavy|lots of|huge|massive|a lot of|large amounts of) (?:traffic|load|usage)|\bmillions? of (?:users|requests)|\bhigh[- ]traffic|\bspiky|\bviral\b|\b\d+k\+? (?:rps|requests per second|concurrent users)"
            ),
            "high",
        ),
        (
            re!(
                r"\b(?:moderate|medium|steady|average) (?:traffic|load|usage)|\bthousands of (?:users|requests)|\b\d+ (?:rps|requests per second)"
            ),
            "medium",
        ),
        (
            re!(
                r"\b(?:low|light|little|minimal) (?:traffic|load|usage)|\blow[- ]traffic|\bfew (?:users|requests)|\binternal (?:tool|use|app)|\bprototype\b|\bdemo\b|\bpersonal\b|\bhobby\b|\bjust me\b"
            ),
            "low",
        ),
    ];
    levels
        .iter()
        .find_map(|(re, level)| find(lower, re).map(|m| (m, *level)))
}

fn database(lower: &str) -> Option<(&str, &'static str)> {
    let re = re!(
        r"\b(?:postgres(?:ql)?|pg|aurora|rds|mysql|mariadb|redis|valkey|elasticache|mongo(?:db)?|documentdb|dynamo(?:db)?|sqlite)\b"
    );
    let m = re.find_iter(lower).find(|m| !negated(lower, m.start()))?;
    let db = match m.as_str() {
        "mysql" | "mariadb" => "mysql",
        "redis" | "valkey" | "elasticache" => "redis",
        "mongo" | "mongodb" | "documentdb" => "mongodb",
        "dynamo" | "dynamodb" => "dynamodb",
        "sqlite" => "sqlite",
        _ => "postgres",
    };
    Some((m.as_str(), db))
}

fn region(text: &str, lower: &str) -> Option<(String, String)> {
    let code = re!(
        r"\b(?:us|eu|ap|ca|sa|me|af|il|mx)-(?:north|south|east|west|central|northeast|southeast|northwest|southwest)-\d\b"
    );
    if let Some(m) = code.find(lower) {
        return Some((m.as_str().to_owned(), m.as_str().to_owned()));
    }
    let words = |phrase: &str, haystack: &str| -> bool {
        haystack.match_indices(phrase).any(|(i, _)| {
            let before = haystack[..i].chars().next_back();
            let after = haystack[i + phrase.len()..].chars().next();
            !before.is_some_and(char::is_alphanumeric) && !after.is_some_and(char::is_alphanumeric)
        })
    };
    let alias = crate::regions::ALIASES
        .iter()
        .find(|(phrase, _)| words(phrase, lower));
    if let Some((phrase, region)) = alias {
        return Some(((*phrase).to_owned(), (*region).to_owned()));
    }
    crate::regions::UPPER_CASE
        .iter()
        .find(|(abbr, _)| words(abbr, text))
        .map(|(abbr, region)| ((*abbr).to_owned(), (*region).to_owned()))
}

fn size(lower: &str) -> Option<(&str, String)> {
    let instance = re!(r"\b[tmcr][3-8][a-z]{0,3}\.(?:nano|micro|small|medium|large|\d*xlarge)\b");
    if let Some(m) = find(lower, instance) {
        return Some((m, m.to_owned()));
    }
    let words = re!(
        r"\b(?:tiny|small|smallest|minimal|medium|large|big|beefy) (?:instance|server|machine|vm|box|node|container)s?\b"
    );
    let m = find(lower, words)?;
    let size = match m.split(' ').next().unwrap_or_default() {
        "tiny" | "smallest" | "minimal" => "micro",
        "small" => "small",
        "medium" => "medium",
        _ => "large",
    };
    Some((m, size.to_owned()))
}

fn target(lower: &str) -> Option<(&str, &'static str)> {
    let targets: [(&regex::Regex, &'static str); 6] = [
        (
            re!(
                r"\b(?:docker[- ]host|my (?:own )?(?:server|machine|box|laptop|computer)|locally|on docker|on this machine|self[- ]hosted|on[- ]prem(?:ises)?)\b"
            ),
            "docker-host",
        ),
        (re!(r"\b(?:kubernetes|k8s|eks|helm)\b"), "kubernetes"),
        (
            re!(r"\b(?:serverless|lambda|scale[sd]? to zero)\b"),
            "serverless",
        ),
        (
            // Managed stores (RDS, ElastiCache) come with the container service.
            re!(
                r"\b(?:ecs|fargate|app runner|container service|managed containers?|managed (?:databases?|db|postgres(?:ql)?|mysql|redis|cache|sql))\b"
            ),
            "container-service",
        ),
        (
            re!(
                r"\b(?:ec2|a vm|virtual machine|single (?:server|machine|instance)|one (?:server|machine|instance)|lightsail|docker compose|plain server)\b"
            ),
            "vm",
        ),
        (
            re!(r"\b(?:containers?|containeri[sz]ed)\b"),
            "container-service",
        ),
    ];
    targets
        .iter()
        .find_map(|(re, target)| find(lower, re).map(|m| (m, *target)))
}

/// Words that follow "the" or "deploy" without naming an app.
const NOT_NAMES: &[&str] = &[
    "whole",
    "entire",
    "main",
    "web",
    "new",
    "same",
    "public",
    "internal",
    "my",
    "our",
    "this",
    "that",
    "these",
    "rest",
    "http",
    "node",
    "python",
    "go",
    "small",
    "simple",
    "mobile",
    "it",
    "app",
    "application",
    "project",
    "repo",
    "repository",
    "code",
    "service",
    "site",
    "a",
    "an",
    "to",
    "on",
    "in",
    "with",
    "for",
];

/// "apps/web", "the orders service", "the api", "deploy payments".
fn app_hint(lower: &str) -> Option<(&str, String)> {
    let path = re!(r"\b(?:apps|services|packages|cmd|src)/[\w.-]+");
    if let Some(m) = path.find(lower) {
        return Some((m.as_str(), m.as_str().to_owned()));
    }
    let named = re!(
        r"\bthe\s+([\w-]+)\s+(?:app|application|service|server|api|backend|frontend|site|website|microservice)\b"
    );
    let role = re!(
        r"\bthe\s+(api|backend|back[- ]end|frontend|front[- ]end|server|web\s?app|website|dashboard|admin|worker)\b"
    );
    let verb = re!(r"\b(?:deploy|ship|host|launch|publish)\s+(?:the\s+|our\s+|my\s+)?([\w-]+)");
    [named, role, verb].into_iter().find_map(|re| {
        re.captures_iter(lower).find_map(|c| {
            let name = c.get(1)?.as_str();
            let name = match name.replace([' ', '-'], "").as_str() {
                "backend" => "backend".to_owned(),
                "frontend" => "frontend".to_owned(),
                "webapp" => "web".to_owned(),
                _ => name.to_owned(),
            };
            (!NOT_NAMES.contains(&name.as_str()))
                .then(|| (c.get(0).map_or("", |m| m.as_str()), name))
        })
    })
}

/// Slash-separated words that are no folder.
const NOT_PATHS: &[&str] = &[
    "and/or",
    "ci/cd",
    "tcp/ip",
    "i/o",
    "read/write",
    "on/off",
    "http/2",
    "http/3",
    "a/b",
    "client/server",
    "input/output",
    "yes/no",
];

/// "in samples/go/", "the ./services/api folder", "the `blog` directory":
/// the folder as the repository spells it (case kept).
fn app_dir(text: &str) -> Option<(&str, String)> {
    let path = re!(r#"(?:^|[\s"'`(])((?:\./)?(?:[\w-][\w.-]*/)+[\w.-]*)"#);
    let from_path = path.captures_iter(text).find_map(|c| {
        let m = c.get(1)?;
        let dir = m.as_str().trim_start_matches("./").trim_end_matches('/');
        let first = dir.split('/').next().unwrap_or_default();
        let is_path = !dir.is_empty()
            && !text[m.end()..].starts_with(':')
            && !first.contains('.')
            && !dir
                .split('/')
                .any(|part| part.chars().all(|c| c.is_ascii_digit()))
            && !NOT_PATHS.contains(&dir.to_lowercase().as_str());
        is_path.then(|| (m.as_str(), dir.to_owned()))
    });
    from_path.or_else(|| {
        let named = re!(
            r#"(?i)\b(?:in|from|under|of)\s+(?:the\s+)?[`"']?([\w-][\w.-]*)[`"']?\s+(?:folder|directory|dir|subfolder|subdirectory)\b"#
        );
        let c = named.captures(text)?;
        Some((c.get(0)?.as_str(), c.get(1)?.as_str().to_owned()))
    })
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn cost_database_and_hint() {
        let r = parse("Deploy the api cheaply, with a small postgres database");
        assert!(r.cost_sensitive);
        assert_eq!(r.database.as_deref(), Some("postgres"));
        assert_eq!(r.app_hint.as_deref(), Some("api"));
        assert!(r.evidence.iter().any(|e| e.contains("cheaply")));
    }

    #[test]
    fn where_the_stores_run() {
        for text in [
            "a public API with a managed postgres database",
            "on a vm, postgres on RDS",
            "cheap, but with a managed database",
        ] {
            assert_eq!(parse(text).managed_stores, Some(true), "{text}");
        }
        for text in [
            "a vm with the database on the same machine",
            "self-hosted postgres on a vm",
            "postgres without rds",
            "redis running on the instance",
        ] {
            assert_eq!(parse(text).managed_stores, Some(false), "{text}");
        }
        assert_eq!(
            parse("public API, cheap, with postgres").managed_stores,
            None
        );
    }

    #[test]
    fn regions_by_name_code_and_abbreviation() {
        assert_eq!(
            parse("host it in Canada").region.as_deref(),
            Some("ca-central-1")
        );
        assert_eq!(
            parse("Frankfurt please").region.as_deref(),
            Some("eu-central-1")
        );
        assert_eq!(
            parse("somewhere in us east").region.as_deref(),
            Some("us-east-1")
        );
        assert_eq!(
            parse("run in eu-west-3").region.as_deref(),
            Some("eu-west-3")
        );
        assert_eq!(
            parse("users in the EU").region.as_deref(),
            Some("eu-west-1")
        );
        assert_eq!(parse("help us deploy this").region, None);
    }

    #[test]
    fn a_machine_of_the_users_own_is_the_docker_host() {
        for text in [
            "deploy it on my server",
            "run it locally",
            "on my own machine please",
            "self-hosted, on docker",
        ] {
            assert_eq!(parse(text).target.as_deref(), Some("docker-host"), "{text}");
        }
        assert_eq!(
            parse("a single server is fine").target.as_deref(),
            Some("vm")
        );
    }

    #[test]
    fn targets_sizes_and_load() {
        let r = parse("run it on kubernetes with t3.small nodes, high traffic expected");
        assert_eq!(r.target.as_deref(), Some("kubernetes"));
        assert_eq!(r.size.as_deref(), Some("t3.small"));
        assert_eq!(r.expected_load.as_deref(), Some("high"));
        let r = parse("serverless please, it is idle most of the time");
        assert_eq!(r.target.as_deref(), Some("serverless"));
        assert!(r.scale_to_zero);
        assert_eq!(
            parse("on ECS Fargate").target.as_deref(),
            Some("container-service")
        );
        for managed in [
            "containerised API with a managed database",
            "a containerized web app",
            "small API, managed postgres please",
        ] {
            assert_eq!(
                parse(managed).target.as_deref(),
                Some("container-service"),
                "{managed}"
            );
        }
        assert_eq!(
            parse("containerised app on my own server")
                .target
                .as_deref(),
            Some("docker-host")
        );
    }

    #[test]
    fn negations_and_ha() {
        let r = parse("doesn't need to be highly available, no database");
        assert!(!r.high_availability);
        assert_eq!(r.database, None);
        assert!(parse("zero downtime, multi-AZ").high_availability);
    }

    #[test]
    fn app_hints() {
        assert_eq!(
            parse("deploy the orders service on a container service")
                .app_hint
                .as_deref(),
            Some("orders")
        );
        assert_eq!(
            parse("Deploy the backend API for our mobile app, low traffic")
                .app_hint
                .as_deref(),
            Some("backend")
        );
        assert_eq!(parse("ship apps/web").app_hint.as_deref(), Some("apps/web"));
        assert_eq!(parse("public API, cheap, postgres").app_hint, None);
        assert_eq!(
            parse("deploy payments to ECS").app_hint.as_deref(),
            Some("payments")
        );
        assert_eq!(parse("Deploy this cheaply").app_hint, None);
        assert_eq!(parse("deploy the whole app").app_hint, None);
    }

    #[test]
    fn app_folders() {
        let dir = |description: &str| parse(description).app_dir;
        assert_eq!(
            dir("small web app; deploy the Go service in samples/go/").as_deref(),
            Some("samples/go")
        );
        assert_eq!(dir("ship apps/Web cheaply").as_deref(), Some("apps/Web"));
        assert_eq!(
            dir("deploy ./services/api").as_deref(),
            Some("services/api")
        );
        assert_eq!(
            dir("deploy the app in the `blog` folder").as_deref(),
            Some("blog")
        );
        assert_eq!(
            dir("deploy the app in the server/ folder").as_deref(),
            Some("server")
        );
        assert_eq!(dir("a 24/7 API with CI/CD"), None);
        assert_eq!(dir("deploy github.com/acme/shop on a VM"), None);
        assert_eq!(dir("deploy https://example.com/acme/shop"), None);
        assert_eq!(dir("public API, cheap, postgres"), None);
    }
}
