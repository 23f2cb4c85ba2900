//! CSV imports of contacts. An upload is stored with a guessed column mapping; once the user
//! confirms the mapping the job is queued, and a worker (any instance) claims it and imports it
//! in chunks. Each chunk's contacts, refused rows and progress commit in one transaction, so a
//! crash resumes after the last whole chunk and nothing is half-written. Contacts are merged by
//! email address, so importing the same file again changes nothing.

use crate::domain::ingest::{
    ColumnTarget, ContactInput, FieldError, ImportError, ImportStatus, Outcome,
};
use crate::entity::{import_error, import_job};
use crate::ingest::{self, ValidContact};
use crate::{Error, Result};
use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, ExprTrait,
    QueryFilter, QueryOrder, QuerySelect, Set, TransactionTrait,
};
use std::collections::HashSet;

pub const MAX_FILE_BYTES: usize = 20 * 1024 * 1024;
pub const MAX_ROWS: u64 = 200_000;
const CHUNK: usize = 250;
const PREVIEW_ROWS: usize = 5;
/// Errors kept per import (the counts stay exact beyond it).
const MAX_STORED_ERRORS: i64 = 10_000;
/// A running job whose worker has not reported for this long is taken over by another.
const STALE_AFTER_SECONDS: i64 = 120;

/// The file as text: UTF-8 (a byte-order mark is dropped). Spreadsheet programs can all save
/// "CSV UTF-8"; guessing other encodings would corrupt names silently.
pub fn decode(bytes: &[u8]) -> Result<String> {
    if bytes.len() > MAX_FILE_BYTES {
        return Err(Error::Invalid(format!(
            "The file is larger than {} MB; split it into smaller files.",
            MAX_FILE_BYTES / 1024 / 1024
        )));
    }
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    String::from_utf8(bytes.to_vec()).map_err(|e| {
        let line = bytes[..e.utf8_error().valid_up_to()]
            .iter()
            .filter(|b| **b == b'\n')
            .count()
            + 1;
        Error::Invalid(format!(
            "The file is not UTF-8 text (first bad byte on line {line}); save it as “CSV UTF-8”."
        ))
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
        .map_err(|e| Error::Invalid(format!("The file's first line cannot be read: {e}.")))?
        .iter()
        .map(|h| h.trim().to_owned())
        .collect();
    if headers.iter().all(String::is_empty) {
        return Err(Error::Invalid(
            "The file is empty; its first line must name the columns.".into(),
        ));
    }
    Ok(headers)
}

/// Checks a mapping against the file's columns: one email column, no target twice.
pub fn check_mapping(headers: &[String], mapping: &[ColumnTarget]) -> Result<()> {
    if mapping.len() != headers.len() {
        return Err(Error::Invalid(format!(
            "The mapping has {} columns but the file has {}.",
            mapping.len(),
            headers.len()
        )));
    }
    if !mapping.contains(&ColumnTarget::Email) {
        return Err(Error::Invalid(
            "Choose the column that holds the email address.".into(),
        ));
    }
    let mut seen = HashSet::new();
    for (header, target) in headers.iter().zip(mapping) {
        if let ColumnTarget::Attribute(key) = target
            && !ingest::attribute_key_ok(key)
        {
            return Err(Error::Invalid(format!(
                "Column “{header}”: attribute names are lower-case letters, digits and _."
            )));
        }
        if *target != ColumnTarget::Ignore && !seen.insert(target.clone()) {
            return Err(Error::Invalid(format!(
                "Two columns are mapped to {}; map each field once.",
                target.label()
            )));
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

fn mapping_of(job: &import_job::Model, headers: &[String]) -> Vec<ColumnTarget> {
    serde_json::from_str::<Vec<ColumnTarget>>(&job.mapping)
        .ok()
        .filter(|m| m.len() == headers.len())
        .unwrap_or_else(|| headers.iter().map(|h| ColumnTarget::guess(h)).collect())
}

/// Stores an uploaded file (checked to be readable CSV with a header) for mapping.
pub async fn upload(
    db: &impl ConnectionTrait,
    org_id: i64,
    user_id: Option<i64>,
    filename: &str,
    bytes: &[u8],
) -> Result<i64> {
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
        org_id: Set(org_id),
        created_by: Set(user_id),
        filename: Set(if filename.is_empty() {
            "upload.csv".into()
        } else {
            filename
        }),
        status: Set("uploaded".into()),
        content: Set(content),
        mapping: Set(serde_json::to_string(&mapping).unwrap_or_default()),
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
pub async fn status(db: &impl ConnectionTrait, org_id: i64, id: i64) -> Result<ImportStatus> {
    let job = job_head(db, org_id, id).await?;
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
pub async fn recent(db: &impl ConnectionTrait, org_id: i64) -> Result<Vec<ImportStatus>> {
    Ok(jobs_with(org_id, "''")
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
pub async fn errors_csv(db: &impl ConnectionTrait, org_id: i64, id: i64) -> Result<String> {
    let job = job(db, org_id, id).await?;
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

/// Confirms the mapping and queues the import.
pub async fn start(
    db: &impl ConnectionTrait,
    org_id: i64,
    id: i64,
    mapping: Vec<ColumnTarget>,
) -> Result<()> {
    let job = job(db, org_id, id).await?;
    if job.status != "uploaded" {
        return Err(Error::Invalid(
            "This import has already been started.".into(),
        ));
    }
    let headers = headers(&job.content)?;
    check_mapping(&headers, &mapping)?;
    let rows = reader(&job.content).records().count() as u64;
    if rows == 0 {
        return Err(Error::Invalid("The file has a header but no rows.".into()));
    }
    if rows > MAX_ROWS {
        return Err(Error::Invalid(format!(
            "The file has {rows} rows; import at most {MAX_ROWS} at a time."
        )));
    }
    let mut am: import_job::ActiveModel = job.into();
    am.mapping = Set(serde_json::to_string(&mapping).map_err(|e| Error::Internal(e.to_string()))?);
    am.total_rows = Set(rows as i64);
    am.status = Set("queued".into());
    am.update(db).await?;
    Ok(())
}

/// Takes the oldest queued import (or one whose worker went silent) for `worker`.
pub async fn claim(
    db: &impl ConnectionTrait,
    worker: &str,
    now: DateTime<Utc>,
) -> Result<Option<import_job::Model>> {
    let stale = now - Duration::seconds(STALE_AFTER_SECONDS);
    let claimable = || {
        sea_orm::Condition::any()
            .add(import_job::Column::Status.eq("queued"))
            .add(
                sea_orm::Condition::all()
                    .add(import_job::Column::Status.eq("running"))
                    .add(import_job::Column::HeartbeatAt.lt(stale)),
            )
    };
    let Some(candidate) = import_job::Entity::find()
        .select_only()
        .column(import_job::Column::Id)
        .filter(claimable())
        .order_by_asc(import_job::Column::Id)
        .into_tuple::<i64>()
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    // Only one worker's update matches: the condition is checked again as it writes.
    let taken = import_job::Entity::update_many()
        .col_expr(import_job::Column::Status, Expr::val("running"))
        .col_expr(import_job::Column::ClaimedBy, Expr::val(worker))
        .col_expr(import_job::Column::HeartbeatAt, Expr::val(now))
        .col_expr(
            import_job::Column::StartedAt,
            Expr::col(import_job::Column::StartedAt).if_null(now),
        )
        .filter(import_job::Column::Id.eq(candidate))
        .filter(claimable())
        .exec(db)
        .await?
        .rows_affected;
    if taken == 0 {
        return Ok(None);
    }
    Ok(import_job::Entity::find_by_id(candidate).one(db).await?)
}

/// Imports a claimed job from where it stands to the end.
pub async fn run(db: &DatabaseConnection, job: import_job::Model, worker: &str) -> Result<()> {
    let headers = headers(&job.content)?;
    let mapping = mapping_of(&job, &headers);
    let mut rows = reader(&job.content).into_records();
    let mut done = job.processed_rows;
    let mut chunks = 0u64;
    // Rows of chunks committed before a restart.
    for _ in 0..done {
        rows.next();
    }
    loop {
        let chunk: Vec<_> = rows.by_ref().take(CHUNK).collect();
        if chunk.is_empty() {
            break;
        }
        let mut valid = Vec::new();
        let mut refused: Vec<ImportError> = Vec::new();
        let mut refused_rows = 0i64;
        for row in &chunk {
            let result = match row {
                Ok(row) => row_to_contact(&headers, &mapping, row),
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
        let now = Utc::now();
        let _writer = crate::db::write_lock(db).await;
        let tx = db.begin().await?;
        let stored = ingest::upsert_contacts(&tx, job.org_id, &valid, "import", now).await?;
        let count = |o: Outcome| stored.iter().filter(|s| s.outcome == o).count() as i64;
        let kept = sea_orm::PaginatorTrait::count(
            import_error::Entity::find().filter(import_error::Column::JobId.eq(job.id)),
            &tx,
        )
        .await? as i64;
        let room = Ord::max(MAX_STORED_ERRORS - kept, 0) as usize;
        for e in refused.into_iter().take(room) {
            import_error::ActiveModel {
                job_id: Set(job.id),
                line: Set(e.line),
                column_name: Set(e.column),
                value: Set(e.value),
                reason: Set(e.reason),
                ..Default::default()
            }
            .insert(&tx)
            .await?;
        }
        let add = |col: import_job::Column, n: i64| Expr::col(col).add(n);
        let still_ours = import_job::Entity::update_many()
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
            .col_expr(import_job::Column::HeartbeatAt, Expr::val(now))
            .filter(import_job::Column::Id.eq(job.id))
            .filter(import_job::Column::ClaimedBy.eq(worker))
            .filter(import_job::Column::ProcessedRows.eq(done))
            .exec(&tx)
            .await?
            .rows_affected;
        if still_ours == 0 {
            // Another worker took the job over; let it finish.
            tx.rollback().await?;
            tracing::warn!(job = job.id, worker, "import taken over by another worker");
            return Ok(());
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
        .col_expr(import_job::Column::Status, Expr::val("done"))
        .col_expr(import_job::Column::FinishedAt, Expr::val(Utc::now()))
        .filter(import_job::Column::Id.eq(job.id))
        .filter(import_job::Column::ClaimedBy.eq(worker))
        .exec(db)
        .await?;
    Ok(())
}

/// Marks a job failed (a problem with the whole file rather than with rows).
pub async fn fail(db: &impl ConnectionTrait, id: i64, reason: &str) -> Result<()> {
    import_job::Entity::update_many()
        .col_expr(import_job::Column::Status, Expr::val("failed"))
        .col_expr(import_job::Column::Failure, Expr::val(reason))
        .col_expr(import_job::Column::FinishedAt, Expr::val(Utc::now()))
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
