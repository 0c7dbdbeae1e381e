//! Every kind of problem the API answers with: its stable `type` (`/problems/<code>`),
//! its title and its status, in one place.

use axum::http::StatusCode;

macro_rules! problem_types {
    ($($variant:ident = $code:literal, $status:ident, $title:literal;)*) => {
        /// The kinds of problem document this API sends.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum ProblemType {
            $($variant,)*
        }

        impl ProblemType {
            /// Every kind, for the documentation and its test.
            pub const ALL: &[ProblemType] = &[$(ProblemType::$variant,)*];

            /// The last segment of the `type` URI: stable, clients branch on it.
            pub fn code(self) -> &'static str {
                match self {
                    $(ProblemType::$variant => $code,)*
                }
            }

            pub fn status(self) -> StatusCode {
                match self {
                    $(ProblemType::$variant => StatusCode::$status,)*
                }
            }

            pub fn title(self) -> &'static str {
                match self {
                    $(ProblemType::$variant => $title,)*
                }
            }
        }
    };
}

problem_types! {
    MalformedJson = "malformed-json", BAD_REQUEST, "Bad request";
    InvalidPath = "invalid-path", BAD_REQUEST, "Bad request";
    InvalidJobId = "invalid-job-id", BAD_REQUEST, "Bad request";
    InvalidStatus = "invalid-status", BAD_REQUEST, "Bad request";
    InvalidLimit = "invalid-limit", BAD_REQUEST, "Bad request";
    InvalidCursor = "invalid-cursor", BAD_REQUEST, "Bad request";
    InvalidQuery = "invalid-query", BAD_REQUEST, "Bad request";
    Unauthenticated = "unauthenticated", UNAUTHORIZED, "Authentication required";
    Forbidden = "forbidden", FORBIDDEN, "Forbidden";
    Csrf = "csrf", FORBIDDEN, "Missing CSRF token";
    CrossOrigin = "cross-origin", FORBIDDEN, "Cross-origin request";
    JobNotFound = "job-not-found", NOT_FOUND, "Not found";
    UnknownWorkflow = "unknown-workflow", NOT_FOUND, "Not found";
    ArtifactNotFound = "artifact-not-found", NOT_FOUND, "Not found";
    NoRoute = "no-route", NOT_FOUND, "Not found";
    NoAsset = "no-asset", NOT_FOUND, "Not found";
    MethodNotAllowed = "method-not-allowed", METHOD_NOT_ALLOWED, "Method not allowed";
    Conflict = "conflict", CONFLICT, "Conflict with the job's current status";
    BodyTooLarge = "body-too-large", PAYLOAD_TOO_LARGE, "Request body too large";
    UnsupportedMediaType = "unsupported-media-type", UNSUPPORTED_MEDIA_TYPE, "Unsupported media type";
    UnknownHost = "unknown-host", MISDIRECTED_REQUEST, "Unknown host";
    InvalidBody = "invalid-body", UNPROCESSABLE_ENTITY, "Invalid request body";
    UnreadableBody = "unreadable-body", BAD_REQUEST, "Unreadable request body";
    InvalidInput = "invalid-input", UNPROCESSABLE_ENTITY, "Invalid input";
    InvalidRequest = "invalid-request", UNPROCESSABLE_ENTITY, "Invalid request";
    SecretsUnavailable = "secrets-unavailable", UNPROCESSABLE_ENTITY, "This server cannot store secrets";
    TooManyActiveJobs = "too-many-active-jobs", TOO_MANY_REQUESTS, "Too many active jobs";
    RateLimited = "rate-limited", TOO_MANY_REQUESTS, "Too many submissions";
    TooManyEventStreams = "too-many-event-streams", TOO_MANY_REQUESTS, "Too many event streams";
    Internal = "internal", INTERNAL_SERVER_ERROR, "Internal server error";
    NotReady = "not-ready", SERVICE_UNAVAILABLE, "Not ready";
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    #[test]
    fn each_kind_has_its_own_code_and_an_error_status() {
        let mut codes = BTreeSet::new();
        for kind in ProblemType::ALL {
            assert!(codes.insert(kind.code()), "{kind:?}: code used twice");
            assert!(
                kind.code()
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b == b'-'),
                "{kind:?}"
            );
            assert!(
                kind.status().is_client_error() || kind.status().is_server_error(),
                "{kind:?}"
            );
        }
    }
}
