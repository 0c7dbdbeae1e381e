//! Terraform-style diagnostics: the one error type of the fake.

pub type Res<T> = Result<T, Diag>;

#[derive(Debug, Clone)]
pub struct Diag {
    pub summary: String,
    pub detail: String,
}

impl Diag {
    pub fn new(summary: impl Into<String>) -> Self {
        Self {
            summary: summary.into(),
            detail: String::new(),
        }
    }

    pub fn detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = detail.into();
        self
    }
}

impl From<sqlx::Error> for Diag {
    fn from(e: sqlx::Error) -> Self {
        Diag::new("Failed to access the pg backend").detail(e.to_string())
    }
}

impl From<std::io::Error> for Diag {
    fn from(e: std::io::Error) -> Self {
        Diag::new("I/O error").detail(e.to_string())
    }
}
