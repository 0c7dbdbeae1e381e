//! The job listing: the one query whose shape depends on the request (filters and a
//! cursor), so it is built once with sea-query and rendered for either dialect.

use sea_query::{Expr, ExprTrait, Func, Order, Query, QueryBuilder, SelectStatement, TableRef};
use sea_query_sqlx::{SqlxBinder, SqlxValues};
use serde::Serialize;

use super::types::{JobRecord, JobStatus};

/// Columns of `jobs` every reader selects, in the order the row decoders expect.
pub(super) const JOB_COLUMNS: [&str; 20] = [
    "seq",
    "id",
    "workflow",
    "workflow_version",
    "steps",
    "input",
    "status",
    "state",
    "current_step",
    "idempotency_key",
    "error",
    "error_code",
    "failed_step",
    "created_at",
    "updated_at",
    "started_at",
    "finished_at",
    "lease_epoch",
    "trace_context",
    "created_by",
];

#[derive(Debug, Clone, Default)]
pub struct JobFilter {
    /// Any of these statuses; empty means all.
    pub statuses: Vec<JobStatus>,
    pub workflow: Option<String>,
    /// Only jobs this token submitted.
    pub created_by: Option<String>,
    /// Cursor: only jobs older than this sequence number.
    pub before: Option<i64>,
    pub limit: u32,
}

#[derive(Debug, Clone, Serialize)]
pub struct JobPage {
    pub jobs: Vec<JobRecord>,
    /// Pass as `before` to get the next (older) page; `None` on the last page.
    pub next_cursor: Option<i64>,
}

pub(super) fn list_query(
    table: impl Into<TableRef>,
    filter: &JobFilter,
    builder: impl QueryBuilder,
) -> (String, SqlxValues) {
    let mut query: SelectStatement = Query::select();
    query.columns(JOB_COLUMNS).from(table);
    apply_filter(&mut query, filter);
    query
        .order_by("seq", Order::Desc)
        .limit(u64::from(filter.limit) + 1);
    query.build_sqlx(builder)
}

pub(super) fn count_query(
    table: impl Into<TableRef>,
    filter: &JobFilter,
    builder: impl QueryBuilder,
) -> (String, SqlxValues) {
    let mut query: SelectStatement = Query::select();
    query.expr(Func::count(Expr::col("seq"))).from(table);
    let unpaged = JobFilter {
        before: None,
        ..filter.clone()
    };
    apply_filter(&mut query, &unpaged);
    query.build_sqlx(builder)
}

fn apply_filter(query: &mut SelectStatement, filter: &JobFilter) {
    if !filter.statuses.is_empty() {
        query.and_where(Expr::col("status").is_in(filter.statuses.iter().map(|s| s.as_str())));
    }
    if let Some(workflow) = &filter.workflow {
        query.and_where(Expr::col("workflow").eq(workflow.as_str()));
    }
    if let Some(created_by) = &filter.created_by {
        query.and_where(Expr::col("created_by").eq(created_by.as_str()));
    }
    if let Some(before) = filter.before {
        query.and_where(Expr::col("seq").lt(before));
    }
}

/// Splits the one extra row fetched into the next page's cursor.
pub(super) fn into_page(mut jobs: Vec<JobRecord>, limit: u32) -> JobPage {
    let next_cursor = if jobs.len() > limit as usize {
        jobs.truncate(limit as usize);
        jobs.last().map(|j| j.seq)
    } else {
        None
    };
    JobPage { jobs, next_cursor }
}
