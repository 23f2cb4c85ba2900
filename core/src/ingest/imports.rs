//! CSV imports of contacts. An upload is stored with a guessed column mapping; once the user
//! confirms the mapping the job is queued, and a worker (any instance) claims it and imports it
//! in chunks. Each chunk's contacts, refused rows and progress commit in one transaction, so a
//! crash resumes after the last whole chunk and nothing is half-written. Contacts are merged by
//! email address, so importing the same file again changes nothing.

use crate::domain::ImportState;
use crate::domain::access::{Action, Actor};
use crate::domain::ingest::{
    ColumnTarget, ContactInput, FieldError, ImportError, ImportStatus, Outcome, UploadProblem,
};
use crate::entity::values::ColumnMapping;
use crate::entity::{import_error, import_job};
use crate::ingest::{self, ValidContact};
use crate::jobs::{self, Job, JobContext, Step};
use crate::{Error, Herald, Result};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, ExprTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;

pub use crate::domain::ingest::{MAX_IMPORT_BYTES as MAX_FILE_BYTES, MAX_IMPORT_ROWS as MAX_ROWS};
const CHUNK: usize = 250;
const PREVIEW_ROWS: usize = 5;
/// Errors kept per import (the counts stay exact beyond it).
const MAX_STORED_ERRORS: i64 = 10_000;

/// The file as text: UTF-8 (a byte-order mark is dropped). Spreadsheet programs can all save
/// "CSV UTF-8"; guessing other encodings would corrupt names silently.
pub fn decode(bytes: &[u8]) -> Result<String> {
    if bytes.len() > MAX_FILE_BYTES {
        return Err(Error::Upload(UploadProblem::TooLarge));
    }
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    String::from_utf8(bytes.to_vec()).map_err(|e| {
        let line = bytes[..e.utf8_error().valid_up_to()]
            .iter()
            .filter(|b| **b == b'\n')
            .count()
            + 1;
        Error::Upload(UploadProblem::NotUtf8 { line: line as u64 })
    })
}

/// `,`, `;` or tab: whichever the header line uses most.
fn delimiter(content: &str) -> u8 {
    let header = content.lines().next().unwrap_or_default();
    let count = |d: u8| header.bytes().filter(|b| *b == d).count();
    // Ties (a single column) go to the comma.
    [b';', b'\t'].into_iter().fold(
        b',',
        |best, d| if count(d) > count(best) { d } else { best },
    )
}

fn reader(content: &str) -> csv::Reader<&[u8]> {
    csv::ReaderBuilder::new()
        .delimiter(delimiter(content))
        .flexible(true)
        .from_reader(content.as_bytes())
}

/// The header row; refuses files without one.
pub fn headers(content: &str) -> Result<Vec<String>> {
    let mut r = reader(content);
    let headers: Vec<String> = r
        .headers()
        .map_err(|_| Error::Upload(UploadProblem::Unreadable))?
        .iter()
        .map(|h| h.trim().to_owned())
        .collect();
    if headers.iter().all(String::is_empty) {
        return Err(Error::Upload(UploadProblem::Empty));
    }
    Ok(headers)
}

/// Checks a mapping against the file's columns: one email column, no target twice.
pub fn check_mapping(headers: &[String], mapping: &[ColumnTarget]) -> Result<()> {
    if mapping.len() != headers.len() {
        return Err(Error::Upload(UploadProblem::ColumnCount));
    }
    if !mapping.contains(&ColumnTarget::Email) {
        return Err(Error::Upload(UploadProblem::NoEmail));
    }
    let mut seen = HashSet::new();
    for (column, target) in mapping.iter().enumerate() {
        let column = column as u64;
        if let ColumnTarget::Attribute(key) = target
            && !ingest::attribute_key_ok(key)
        {
            return Err(Error::Upload(UploadProblem::BadAttribute { column }));
        }
        if *target != ColumnTarget::Ignore && !seen.insert(target.clone()) {
            return Err(Error::Upload(UploadProblem::Twice { column }));
        }
    }
    Ok(())
}

fn parse_bool(value: &str) -> Option<bool> {
    match value.trim().to_lowercase().as_str() {
        "yes" | "y" | "true" | "1" | "active" | "x" | "opted in" | "subscribed" => Some(true),
        "no" | "n" | "false" | "0" | "inactive" | "opted out" | "unsubscribed" => Some(false),
        _ => None,
    }
}

/// One CSV row as a contact input, or the columns that are wrong.
pub fn row_to_contact(
    headers: &[String],
    mapping: &[ColumnTarget],
    row: &csv::StringRecord,
) -> Result<ValidContact, Vec<ImportError>> {
    let line = row.position().map_or(0, |p| p.line() as i64);
    let err = |column: &str, value: &str, reason: String| ImportError {
        line,
        column: column.to_owned(),
        value: value.chars().take(200).collect(),
        reason,
    };
    if row.len() != headers.len() {
        return Err(vec![err(
            "",
            "",
            format!(
                "this row has {} fields but the header has {}; check for a missing or extra separator or an unclosed quote",
                row.len(),
                headers.len()
            ),
        )]);
    }
    let mut input = ContactInput::default();
    let mut errors = Vec::new();
    for ((header, target), value) in headers.iter().zip(mapping).zip(row.iter()) {
        let v = value.trim();
        if v.is_empty() && *target != ColumnTarget::Email {
            continue;
        }
        let boolean = |errors: &mut Vec<ImportError>| {
            parse_bool(v).or_else(|| {
                errors.push(err(header, v, "expected yes or no".into()));
                None
            })
        };
        match target {
            ColumnTarget::Ignore => {}
            ColumnTarget::Email => input.email = v.to_owned(),
            ColumnTarget::FirstName => input.first_name = Some(v.into()),
            ColumnTarget::LastName => input.last_name = Some(v.into()),
            ColumnTarget::Phone => input.phone = Some(v.into()),
            ColumnTarget::Language => input.language = Some(v.into()),
            ColumnTarget::TimeZone => input.time_zone = Some(v.into()),
            ColumnTarget::Active => input.active = boolean(&mut errors),
            ColumnTarget::MarketingConsent => input.marketing_consent = boolean(&mut errors),
            ColumnTarget::NewsletterConsent => input.newsletter_consent = boolean(&mut errors),
            ColumnTarget::AccountManager => input.account_manager = Some(v.to_owned()),
            ColumnTarget::Groups => {
                input.groups = v
                    .split(';')
                    .map(str::trim)
                    .filter(|g| !g.is_empty())
                    .map(str::to_owned)
                    .collect()
            }
            ColumnTarget::Attribute(key) => {
                input.attributes.insert(key.clone(), v.to_owned());
            }
        }
    }
    let column_of = |field: &str| -> String {
        let target = match field.split(['.', '[']).next().unwrap_or_default() {
            "email" => ColumnTarget::Email,
            "first_name" => ColumnTarget::FirstName,
            "last_name" => ColumnTarget::LastName,
            "phone" => ColumnTarget::Phone,
            "language" => ColumnTarget::Language,
            "time_zone" => ColumnTarget::TimeZone,
            "groups" => ColumnTarget::Groups,
            "account_manager" => ColumnTarget::AccountManager,
            "attributes" => ColumnTarget::Attribute(
                field.strip_prefix("attributes.").unwrap_or_default().into(),
            ),
            _ => ColumnTarget::Ignore,
        };
        mapping
            .iter()
            .position(|t| *t == target)
            .map(|i| headers[i].clone())
            .unwrap_or_else(|| field.to_owned())
    };
    let value_of = |column: &str| -> String {
        headers
            .iter()
            .position(|h| h == column)
            .and_then(|i| row.get(i))
            .unwrap_or_default()
            .to_owned()
    };
    match ingest::validate_contact(&input) {
        Ok(valid) if errors.is_empty() => Ok(valid),
        Ok(_) => Err(errors),
        Err(field_errors) => {
            errors.extend(
                field_errors
                    .into_iter()
                    .map(|FieldError { field, message }| {
                        let column = column_of(&field);
                        let value = value_of(&column);
                        err(&column, &value, message)
                    }),
            );
            Err(errors)
        }
    }
}

/// The job's mapping; the guessed one until a mapping that fits the file is saved.
fn mapping_of(job: &import_job::Model, headers: &[String]) -> Vec<ColumnTarget> {
    if job.mapping.0.len() == headers.len() {
        job.mapping.0.clone()
    } else {
        headers.iter().map(|h| ColumnTarget::guess(h)).collect()
    }
}

/// Stores an uploaded file (checked to be readable CSV with a header) for mapping.
pub async fn upload(
    db: &impl ConnectionTrait,
    actor: &Actor,
    filename: &str,
    bytes: &[u8],
) -> Result<i64> {
    actor.require(Action::ImportContacts)?;
    let content = decode(bytes)?;
    let headers = headers(&content)?;
    let filename: String = filename
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or_default()
        .chars()
        .filter(|c| !c.is_control())
        .take(200)
        .collect();
    let mapping: Vec<ColumnTarget> = headers.iter().map(|h| ColumnTarget::guess(h)).collect();
    let job = import_job::ActiveModel {
        org_id: Set(actor.org_id()),
        created_by: Set(actor.user_id()),
        filename: Set(if filename.is_empty() {
            "upload.csv".into()
        } else {
            filename
        }),
        status: Set(ImportState::Uploaded),
        content: Set(content),
        mapping: Set(ColumnMapping(mapping)),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(job.id)
}

async fn job(db: &impl ConnectionTrait, org_id: i64, id: i64) -> Result<import_job::Model> {
    import_job::Entity::find_by_id(id)
        .filter(import_job::Column::OrgId.eq(org_id))
        .one(db)
        .await?
        .ok_or(Error::NotFound("import"))
}

/// The organisation's jobs with `content` replaced by `content_sql` (constant SQL): the start
/// of the file, or nothing. Cheap to read every second while a large import runs.
fn jobs_with(org_id: i64, content_sql: &'static str) -> sea_orm::Select<import_job::Entity> {
    use sea_orm::Iterable;
    let mut query = import_job::Entity::find()
        .filter(import_job::Column::OrgId.eq(org_id))
        .select_only();
    for col in import_job::Column::iter() {
        query = match col {
            import_job::Column::Content => query.column_as(Expr::cust(content_sql), "content"),
            col => query.column(col),
        };
    }
    query
}

/// The job with only the first 64 KiB of its file: enough for the header and the preview.
async fn job_head(db: &impl ConnectionTrait, org_id: i64, id: i64) -> Result<import_job::Model> {
    jobs_with(org_id, "substr(content, 1, 65536)")
        .filter(import_job::Column::Id.eq(id))
        .into_model::<import_job::Model>()
        .one(db)
        .await?
        .ok_or(Error::NotFound("import"))
}

/// An import's status without columns, preview or errors.
fn summary(job: import_job::Model) -> ImportStatus {
    ImportStatus {
        id: job.id,
        filename: job.filename,
        status: job.status,
        total_rows: job.total_rows,
        processed_rows: job.processed_rows,
        created_rows: job.created_rows,
        updated_rows: job.updated_rows,
        unchanged_rows: job.unchanged_rows,
        error_rows: job.error_rows,
        failure: job.failure,
        created_at: job.created_at,
        finished_at: job.finished_at,
        columns: Vec::new(),
        preview: Vec::new(),
        errors: Vec::new(),
    }
}

/// Where an import stands, with its columns, a preview and the first refused rows.
pub async fn status(db: &impl ConnectionTrait, actor: &Actor, id: i64) -> Result<ImportStatus> {
    actor.require(Action::ImportContacts)?;
    let job = job_head(db, actor.org_id(), id).await?;
    let headers = headers(&job.content)?;
    let mapping = mapping_of(&job, &headers);
    let preview = reader(&job.content)
        .records()
        .take(PREVIEW_ROWS)
        .filter_map(|r| r.ok())
        .map(|r| r.iter().map(str::to_owned).collect())
        .collect();
    let errors = import_error::Entity::find()
        .filter(import_error::Column::JobId.eq(job.id))
        .order_by_asc(import_error::Column::Line)
        .order_by_asc(import_error::Column::Id)
        .limit(200)
        .all(db)
        .await?
        .into_iter()
        .map(|e| ImportError {
            line: e.line,
            column: e.column_name,
            value: e.value,
            reason: e.reason,
        })
        .collect();
    Ok(ImportStatus {
        columns: headers.into_iter().zip(mapping).collect(),
        preview,
        errors,
        ..summary(job)
    })
}

/// The organisation's recent imports, newest first.
pub async fn recent(db: &impl ConnectionTrait, actor: &Actor) -> Result<Vec<ImportStatus>> {
    actor.require(Action::ImportContacts)?;
    Ok(jobs_with(actor.org_id(), "''")
        .order_by_desc(import_job::Column::Id)
        .limit(20)
        .into_model::<import_job::Model>()
        .all(db)
        .await?
        .into_iter()
        .map(summary)
        .collect())
}

/// Every refused row, as CSV (line, column, value, reason), for download.
pub async fn errors_csv(db: &impl ConnectionTrait, actor: &Actor, id: i64) -> Result<String> {
    actor.require(Action::ImportContacts)?;
    let job = job(db, actor.org_id(), id).await?;
    let mut w = csv::Writer::from_writer(Vec::new());
    let write_err = |e: csv::Error| Error::Internal(e.to_string());
    w.write_record(["line", "column", "value", "reason"])
        .map_err(write_err)?;
    for e in import_error::Entity::find()
        .filter(import_error::Column::JobId.eq(job.id))
        .order_by_asc(import_error::Column::Line)
        .order_by_asc(import_error::Column::Id)
        .all(db)
        .await?
    {
        w.write_record([e.line.to_string(), e.column_name, e.value, e.reason])
            .map_err(write_err)?;
    }
    String::from_utf8(w.into_inner().map_err(|e| Error::Internal(e.to_string()))?)
        .map_err(|e| Error::Internal(e.to_string()))
}

/// Confirms the mapping and queues the import, in one transaction with its job.
pub async fn start(
    herald: &Herald,
    actor: &Actor,
    id: i64,
    mapping: Vec<ColumnTarget>,
) -> Result<()> {
    actor.require(Action::ImportContacts)?;
    let db = &herald.db;
    let job = job(db, actor.org_id(), id).await?;
    if job.status != ImportState::Uploaded {
        return Err(Error::Upload(UploadProblem::Started));
    }
    let headers = headers(&job.content)?;
    check_mapping(&headers, &mapping)?;
    let rows = reader(&job.content).records().count() as u64;
    if rows == 0 {
        return Err(Error::Upload(UploadProblem::NoRows));
    }
    if rows > MAX_ROWS {
        return Err(Error::Upload(UploadProblem::TooManyRows { rows }));
    }
    let _writer = crate::db::write_lock(db).await;
    let tx = crate::db::begin_write(db).await?;
    let queued = import_job::Entity::update_many()
        .col_expr(
            import_job::Column::Mapping,
            Expr::value(ColumnMapping(mapping)),
        )
        .col_expr(import_job::Column::TotalRows, Expr::value(rows as i64))
        .col_expr(import_job::Column::Status, Expr::value(ImportState::Queued))
        .filter(import_job::Column::Id.eq(job.id))
        .filter(import_job::Column::Status.eq(ImportState::Uploaded))
        .exec(&tx)
        .await?
        .rows_affected;
    if queued == 0 {
        return Err(Error::Upload(UploadProblem::Started));
    }
    jobs::enqueue(
        &tx,
        herald.now(),
        &ImportJob {
            import_id: job.id,
            org_id: job.org_id,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The background job that imports a queued file.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ImportJob {
    pub import_id: i64,
    /// Older jobs (queued before imports ran on the job queue) do not name it.
    #[serde(default)]
    pub org_id: i64,
}

impl Job for ImportJob {
    const KIND: &'static str = "contacts.import";

    fn org_id(&self) -> Option<i64> {
        (self.org_id > 0).then_some(self.org_id)
    }

    fn dedup_key(&self) -> Option<String> {
        Some(self.import_id.to_string())
    }

    async fn run(&self, ctx: &JobContext) -> Result<Step> {
        let Some(job) = import_job::Entity::find_by_id(self.import_id)
            .one(ctx.db())
            .await?
        else {
            // The import (or its organisation) was deleted: nothing left to do.
            return Ok(Step::Done);
        };
        if job.status.is_finished() {
            return Ok(Step::Done);
        }
        run(ctx, job).await
    }

    async fn gave_up(&self, ctx: &JobContext, _error: &str) -> Result<()> {
        fail(
            ctx.db(),
            self.import_id,
            "The import stopped because of an error on our side; the rows imported so far are kept.",
            ctx.now(),
        )
        .await
    }
}

/// Imports a job from where it stands to the end, a chunk per transaction. Each chunk's
/// contacts, refused rows and progress commit together (fenced by the job's lease), so a worker
/// stopping at any moment leaves a whole number of chunks and the next run resumes after them.
async fn run(ctx: &JobContext, job: import_job::Model) -> Result<Step> {
    let db = ctx.db();
    let headers = headers(&job.content)?;
    let mapping = mapping_of(&job, &headers);
    let mut rows = reader(&job.content).into_records();
    let mut done = job.processed_rows;
    let mut chunks = 0u64;
    if job.status == ImportState::Queued {
        import_job::Entity::update_many()
            .col_expr(
                import_job::Column::Status,
                Expr::value(ImportState::Running),
            )
            .col_expr(import_job::Column::StartedAt, Expr::value(ctx.now()))
            .col_expr(
                import_job::Column::Failure,
                Expr::value(Option::<String>::None),
            )
            .filter(import_job::Column::Id.eq(job.id))
            .exec(db)
            .await?;
    } else if job.status == ImportState::Failed {
        // An operator retried it: carry on after the last committed chunk.
        import_job::Entity::update_many()
            .col_expr(
                import_job::Column::Status,
                Expr::value(ImportState::Running),
            )
            .col_expr(
                import_job::Column::Failure,
                Expr::value(Option::<String>::None),
            )
            .col_expr(
                import_job::Column::FinishedAt,
                Expr::value(Option::<DateTime<Utc>>::None),
            )
            .filter(import_job::Column::Id.eq(job.id))
            .exec(db)
            .await?;
    }
    let managers = if mapping.contains(&ColumnTarget::AccountManager) {
        ingest::account_managers(db, job.org_id).await?
    } else {
        Default::default()
    };
    let manager_column = mapping
        .iter()
        .position(|t| *t == ColumnTarget::AccountManager)
        .map(|i| headers[i].clone())
        .unwrap_or_default();
    // Rows of chunks committed before a restart.
    for _ in 0..done {
        rows.next();
    }
    loop {
        if ctx.stopping() {
            return Ok(Step::Yield);
        }
        let chunk: Vec<_> = rows.by_ref().take(CHUNK).collect();
        if chunk.is_empty() {
            break;
        }
        let mut valid = Vec::new();
        let mut refused: Vec<ImportError> = Vec::new();
        let mut refused_rows = 0i64;
        for row in &chunk {
            let result = match row {
                Ok(row) => row_to_contact(&headers, &mapping, row).and_then(|mut c| {
                    match ingest::resolve_manager(&mut c, &managers) {
                        Ok(()) => Ok(c),
                        Err(email) => Err(vec![ImportError {
                            line: row.position().map_or(0, |p| p.line() as i64),
                            column: manager_column.clone(),
                            reason: format!(
                                "{email} is not an account manager of this organisation"
                            ),
                            value: email,
                        }]),
                    }
                }),
                Err(e) => Err(vec![ImportError {
                    line: e.position().map_or(0, |p| p.line() as i64),
                    column: String::new(),
                    value: String::new(),
                    reason: format!("unreadable row: {e}"),
                }]),
            };
            match result {
                Ok(v) => valid.push(v),
                Err(e) => {
                    refused_rows += 1;
                    refused.extend(e);
                }
            }
        }
        let now = ctx.now();
        let _writer = crate::db::write_lock(db).await;
        let tx = crate::db::begin_write(db).await?;
        ctx.fence(&tx).await?;
        let stored = ingest::store_contacts(&tx, job.org_id, &valid, "import", now).await?;
        let count = |o: Outcome| stored.iter().filter(|s| s.outcome == o).count() as i64;
        let kept = sea_orm::PaginatorTrait::count(
            import_error::Entity::find().filter(import_error::Column::JobId.eq(job.id)),
            &tx,
        )
        .await? as i64;
        let room = Ord::max(MAX_STORED_ERRORS - kept, 0) as usize;
        let errors: Vec<import_error::ActiveModel> = refused
            .into_iter()
            .take(room)
            .map(|e| import_error::ActiveModel {
                job_id: Set(job.id),
                line: Set(e.line),
                column_name: Set(e.column),
                value: Set(e.value),
                reason: Set(e.reason),
                ..Default::default()
            })
            .collect();
        if !errors.is_empty() {
            import_error::Entity::insert_many(errors)
                .exec_without_returning(&tx)
                .await?;
        }
        let add = |col: import_job::Column, n: i64| Expr::col(col).add(n);
        let progressed = import_job::Entity::update_many()
            .col_expr(
                import_job::Column::ProcessedRows,
                add(import_job::Column::ProcessedRows, chunk.len() as i64),
            )
            .col_expr(
                import_job::Column::CreatedRows,
                add(import_job::Column::CreatedRows, count(Outcome::Created)),
            )
            .col_expr(
                import_job::Column::UpdatedRows,
                add(import_job::Column::UpdatedRows, count(Outcome::Updated)),
            )
            .col_expr(
                import_job::Column::UnchangedRows,
                add(import_job::Column::UnchangedRows, count(Outcome::Unchanged)),
            )
            .col_expr(
                import_job::Column::ErrorRows,
                add(import_job::Column::ErrorRows, refused_rows),
            )
            .filter(import_job::Column::Id.eq(job.id))
            .filter(import_job::Column::ProcessedRows.eq(done))
            .exec(&tx)
            .await?
            .rows_affected;
        if progressed == 0 {
            // The job was taken over and that worker moved on: it finishes the import.
            tx.rollback().await?;
            return Ok(Step::Done);
        }
        tx.commit().await?;
        done += chunk.len() as i64;
        chunks += 1;
        // A large import changes the tables faster than PostgreSQL's autovacuum re-reads their
        // statistics; with stale ones it looks contacts up through the wrong index and every
        // chunk gets slower (measured: 850 instead of several thousand rows a second at 50k).
        if chunks % 40 == 4 && db.get_database_backend() == sea_orm::DbBackend::Postgres {
            db.execute_unprepared("ANALYZE contact, contact_group_member")
                .await?;
        }
    }
    import_job::Entity::update_many()
        .col_expr(import_job::Column::Status, Expr::value(ImportState::Done))
        .col_expr(import_job::Column::FinishedAt, Expr::value(ctx.now()))
        .filter(import_job::Column::Id.eq(job.id))
        .exec(db)
        .await?;
    Ok(Step::Done)
}

/// Marks an import failed (a problem with the whole file rather than with rows).
async fn fail(db: &impl ConnectionTrait, id: i64, reason: &str, now: DateTime<Utc>) -> Result<()> {
    import_job::Entity::update_many()
        .col_expr(import_job::Column::Status, Expr::value(ImportState::Failed))
        .col_expr(import_job::Column::Failure, Expr::value(reason))
        .col_expr(import_job::Column::FinishedAt, Expr::value(now))
        .filter(import_job::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(content: &str) -> Vec<Result<ValidContact, Vec<ImportError>>> {
        let headers = headers(content).unwrap();
        let mapping: Vec<ColumnTarget> = headers.iter().map(|h| ColumnTarget::guess(h)).collect();
        reader(content)
            .records()
            .map(|r| row_to_contact(&headers, &mapping, &r.unwrap()))
            .collect()
    }

    #[test]
    fn rows_become_contacts_or_errors_with_line_and_column() {
        let csv = "Email,First name,Newsletter,Groups,Plan\n\
                   ADA@example.org,Ada,yes,Alumni; Staff,gold\n\
                   not-an-address,Bob,no,,\n\
                   carol@example.org,Carol,perhaps,,\n\
                   dan@example.org,Dan\n\
                   \"eve@example.org\",\"Eve, Jr.\",no,,silver\n";
        let r = rows(csv);
        let ada = r[0].as_ref().unwrap();
        assert_eq!(ada.email, "ada@example.org");
        assert_eq!(ada.newsletter_consent, Some(true));
        assert_eq!(ada.groups, ["Alumni", "Staff"]);
        assert_eq!(ada.attributes["plan"], "gold");
        let e = r[1].as_ref().unwrap_err();
        assert_eq!(
            (e[0].line, e[0].column.as_str(), e[0].value.as_str()),
            (3, "Email", "not-an-address")
        );
        let e = r[2].as_ref().unwrap_err();
        assert_eq!((e[0].line, e[0].column.as_str()), (4, "Newsletter"));
        assert!(e[0].reason.contains("yes or no"));
        let e = r[3].as_ref().unwrap_err();
        assert_eq!(e[0].line, 5);
        assert!(e[0].reason.contains("2 fields"), "{}", e[0].reason);
        assert_eq!(
            r[4].as_ref().unwrap().first_name.as_deref(),
            Some("Eve, Jr.")
        );
    }

    #[test]
    fn delimiters_and_encodings() {
        assert_eq!(delimiter("email;name\na;b"), b';');
        assert_eq!(delimiter("email\tname"), b'\t');
        assert_eq!(delimiter("email"), b',');
        assert_eq!(decode(b"\xEF\xBB\xBFemail\n").unwrap(), "email\n");
        let err = decode(b"email\nb\xE9a@example.org\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("line 2"), "{err}");
        assert!(headers("").is_err());
    }

    #[test]
    fn mappings() {
        let h: Vec<String> = ["E-mail", "Name", "Other"].map(String::from).to_vec();
        use ColumnTarget::*;
        assert!(check_mapping(&h, &[Email, FirstName, Ignore]).is_ok());
        assert!(check_mapping(&h, &[Email, Ignore, Ignore]).is_ok());
        assert!(
            check_mapping(&h, &[FirstName, Ignore, Ignore]).is_err(),
            "no email"
        );
        assert!(check_mapping(&h, &[Email, Email, Ignore]).is_err(), "twice");
        assert!(check_mapping(&h, &[Email, FirstName]).is_err(), "too short");
        assert!(check_mapping(&h, &[Email, Attribute("Bad Key".into()), Ignore]).is_err());
    }
}
