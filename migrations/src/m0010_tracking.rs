//! Tracking and reports: the links of each campaign's messages (what a click token names, so a
//! redirect goes only where Herald sent it), each message's clicks per link, every open and
//! click as an event (when, from what agent and address, what flagged it as a machine's),
//! hourly counts for charts, receipts of provider webhooks (a repeated notification changes
//! nothing), and **counters** per campaign and per run kept by triggers on `message`: every
//! insert, update or delete of a message row moves them in the same transaction, whichever code
//! path wrote it, so a report of a million messages reads one row. The one exception is an
//! update of the tracking columns alone ([`TRACKED`]), which only the tracking recorder writes:
//! it adds a whole batch's opens and clicks to the counters once per campaign and run instead of
//! twice per message.

use sea_orm_migration::sea_orm::DatabaseBackend;
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

fn a(name: &str) -> Alias {
    Alias::new(name)
}

async fn add(m: &SchemaManager<'_>, table: &str, mut col: ColumnDef) -> Result<(), DbErr> {
    m.alter_table(
        Table::alter()
            .table(a(table))
            .add_column(&mut col)
            .to_owned(),
    )
    .await
}

/// The counters and what each counts of a message row `R` (seed copies count nowhere). Kept
/// equal to `herald_core::reports::COUNTERS`, whose test recounts every one from the rows.
pub const COUNTERS: [(&str, &str); 17] = [
    ("recipients", "1"),
    (
        "waiting",
        "CASE WHEN R.state IN ('queued', 'sending') THEN 1 ELSE 0 END",
    ),
    ("skipped", "CASE WHEN R.state = 'skipped' THEN 1 ELSE 0 END"),
    ("sent", "CASE WHEN R.sent_at IS NULL THEN 0 ELSE 1 END"),
    // Handed over, with no delivery, bounce or complaint notice yet.
    ("pending", "CASE WHEN R.state = 'sent' THEN 1 ELSE 0 END"),
    (
        "delivered",
        "CASE WHEN R.delivered_at IS NULL THEN 0 ELSE 1 END",
    ),
    (
        "bounced",
        "CASE WHEN R.bounced_at IS NULL THEN 0 ELSE 1 END",
    ),
    (
        "soft_bounced",
        "CASE WHEN R.bounced_at IS NOT NULL AND R.bounce_type = 'transient' THEN 1 ELSE 0 END",
    ),
    (
        "complained",
        "CASE WHEN R.complained_at IS NULL THEN 0 ELSE 1 END",
    ),
    ("failed", "CASE WHEN R.failed_at IS NULL THEN 0 ELSE 1 END"),
    (
        "unsubscribed",
        "CASE WHEN R.unsubscribed_at IS NULL THEN 0 ELSE 1 END",
    ),
    (
        "opened",
        "CASE WHEN R.first_opened_at IS NULL THEN 0 ELSE 1 END",
    ),
    (
        "human_opened",
        "CASE WHEN R.human_opened_at IS NULL THEN 0 ELSE 1 END",
    ),
    (
        "clicked",
        "CASE WHEN R.first_clicked_at IS NULL THEN 0 ELSE 1 END",
    ),
    (
        "human_clicked",
        "CASE WHEN R.human_clicked_at IS NULL THEN 0 ELSE 1 END",
    ),
    ("opens", "R.opens"),
    ("clicks", "R.clicks"),
];

/// `expr` of row `row` (`NEW` or `OLD`).
fn of(expr: &str, row: &str) -> String {
    expr.replace("R.", &format!("{row}."))
}

/// An upsert adding `value(expr)` to each counter of `table`'s row for the message's key.
fn upsert(table: &str, keys: &[&str], row: &str, value: impl Fn(&str) -> String) -> String {
    let mut cols: Vec<String> = keys.iter().map(|k| (*k).to_owned()).collect();
    let mut vals: Vec<String> = keys.iter().map(|k| format!("{row}.{k}")).collect();
    for (name, expr) in COUNTERS {
        cols.push(name.to_owned());
        vals.push(value(expr));
    }
    let sets: Vec<String> = COUNTERS
        .iter()
        .map(|(name, _)| format!("{name} = {table}.{name} + excluded.{name}"))
        .collect();
    format!(
        "INSERT INTO {table} ({}) VALUES ({}) ON CONFLICT ({}) DO UPDATE SET {}",
        cols.join(", "),
        vals.join(", "),
        keys[0],
        sets.join(", ")
    )
}

/// The statements a change of one row makes: `sign` +1 (insert), -1 (delete) or the
/// difference of `NEW` and `OLD` (update).
fn statements(change: &str) -> Vec<String> {
    let value = |expr: &str| match change {
        "insert" => of(expr, "NEW"),
        "delete" => format!("-({})", of(expr, "OLD")),
        _ => format!("({}) - ({})", of(expr, "NEW"), of(expr, "OLD")),
    };
    let row = if change == "delete" { "OLD" } else { "NEW" };
    vec![
        upsert("campaign_stats", &["campaign_id", "org_id"], row, value),
        upsert(
            "send_stats",
            &["send_id", "campaign_id", "org_id"],
            row,
            value,
        ),
    ]
}

/// The counters of opens and clicks. The tracking recorder is the only writer of a message's
/// tracking columns (`opens`, `first_opened_at`, `human_opened_at`, `clicks`, …) and adds what a
/// batch of hits moves to these counters itself, once per campaign and run, in the transaction
/// that updates the rows: the update trigger does not fire for a change of those columns alone.
/// Inserts and deletes count them like every other counter.
pub const TRACKED: [&str; 6] = [
    "opened",
    "human_opened",
    "clicked",
    "human_clicked",
    "opens",
    "clicks",
];

/// Whether an update moved any counter but the [`TRACKED`] ones (SQLite's `IS NOT` is
/// PostgreSQL's `IS DISTINCT FROM`).
fn changed(distinct: &str) -> String {
    COUNTERS
        .iter()
        .skip(1)
        .filter(|(name, _)| !TRACKED.contains(name))
        .map(|(_, e)| format!("({}) {distinct} ({})", of(e, "NEW"), of(e, "OLD")))
        .collect::<Vec<_>>()
        .join(" OR ")
}

fn counter_table(name: &str, key: &str, extra: &[&str]) -> TableCreateStatement {
    let mut t = Table::create();
    t.table(a(name)).col(big_integer(a(key)).primary_key());
    for col in extra {
        t.col(big_integer(a(col)));
    }
    t.col(big_integer(a("org_id")));
    for (col, _) in COUNTERS {
        t.col(big_integer(a(col)).default(0));
    }
    t.to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        // A message's first human open and click (machine activity is flagged, not dropped:
        // the raw counts stay in opens/first_opened_at), and when its recipient unsubscribed
        // through it.
        add(
            m,
            "message",
            timestamp_with_time_zone_null(a("human_opened_at")),
        )
        .await?;
        add(
            m,
            "message",
            timestamp_with_time_zone_null(a("human_clicked_at")),
        )
        .await?;
        add(
            m,
            "message",
            timestamp_with_time_zone_null(a("unsubscribed_at")),
        )
        .await?;
        // The SNS topic an organisation's SES events come through (accepted at /webhooks/ses).
        add(m, "sending_config", string_null(a("ses_topic_arn"))).await?;
        // The per-recipient table of a campaign, a page at a time (SES events find messages by
        // `idx_message_provider_id`, timelines by `idx_message_contact`, both of m0001).
        db.execute_unprepared("CREATE INDEX idx_message_campaign_id ON message (campaign_id, id)")
            .await?;

        m.create_table(
            Table::create()
                .table(a("link"))
                .col(big_pk_auto(a("id")))
                .col(big_integer(a("org_id")))
                .col(big_integer(a("campaign_id")))
                .col(text(a("url")))
                // Hex of the URL's SHA-256 (an index on the URL itself would be too wide).
                .col(string(a("url_key")))
                .col(big_integer(a("clicks")).default(0))
                .col(big_integer(a("unique_clicks")).default(0))
                .col(big_integer(a("human_clicks")).default(0))
                .col(timestamp_with_time_zone_null(a("first_clicked_at")))
                .col(timestamp_with_time_zone_null(a("last_clicked_at")))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_link_campaign")
                        .from(a("link"), a("campaign_id"))
                        .to(a("campaign"), a("id"))
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        db.execute_unprepared("CREATE UNIQUE INDEX idx_link_url ON link (campaign_id, url_key)")
            .await?;

        // Each message's clicks on each link: what makes a click unique per link.
        m.create_table(
            Table::create()
                .table(a("message_click"))
                .col(big_integer(a("message_id")))
                .col(big_integer(a("link_id")))
                .col(integer(a("clicks")).default(0))
                .col(boolean(a("human")).default(false))
                .col(timestamp_with_time_zone(a("first_at")))
                .col(timestamp_with_time_zone(a("last_at")))
                .primary_key(Index::create().col(a("message_id")).col(a("link_id")))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_message_click_message")
                        .from(a("message_click"), a("message_id"))
                        .to(a("message"), a("id"))
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;

        // Every open and click: when, through which agent and address, and what flagged it as a
        // machine's.
        m.create_table(
            Table::create()
                .table(a("tracking_event"))
                .col(big_pk_auto(a("id")))
                .col(big_integer(a("org_id")))
                .col(big_integer(a("campaign_id")))
                .col(big_integer(a("message_id")))
                .col(big_integer_null(a("contact_id")))
                // open | click | view
                .col(string(a("kind")))
                .col(big_integer_null(a("link_id")))
                .col(timestamp_with_time_zone(a("at")))
                // Why it looks like a machine's (none: a person's, as far as anyone can tell).
                .col(string_null(a("machine")))
                .col(string_null(a("user_agent")))
                .col(string_null(a("ip")))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_tracking_event_message")
                        .from(a("tracking_event"), a("message_id"))
                        .to(a("message"), a("id"))
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        // A message's events (and the cascade when a message is deleted). Nothing reads them
        // by contact: a timeline lists the contact's messages with their opens and clicks.
        db.execute_unprepared(
            "CREATE INDEX idx_tracking_event_message ON tracking_event (message_id, id)",
        )
        .await?;

        // Opens and clicks per campaign and hour: the chart over time.
        m.create_table(
            Table::create()
                .table(a("campaign_hour"))
                .col(big_integer(a("campaign_id")))
                .col(timestamp_with_time_zone(a("hour")))
                .col(big_integer(a("org_id")))
                .col(big_integer(a("opens")).default(0))
                .col(big_integer(a("human_opens")).default(0))
                .col(big_integer(a("clicks")).default(0))
                .col(big_integer(a("human_clicks")).default(0))
                .primary_key(Index::create().col(a("campaign_id")).col(a("hour")))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_campaign_hour_campaign")
                        .from(a("campaign_hour"), a("campaign_id"))
                        .to(a("campaign"), a("id"))
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;

        // Notifications already taken in (SNS delivers at least once).
        m.create_table(
            Table::create()
                .table(a("webhook_receipt"))
                .col(string(a("source")))
                .col(string(a("receipt_id")))
                .col(timestamp_with_time_zone(a("received_at")))
                .primary_key(Index::create().col(a("source")).col(a("receipt_id")))
                .to_owned(),
        )
        .await?;

        m.create_table(counter_table("campaign_stats", "campaign_id", &[]))
            .await?;
        m.create_table(counter_table("send_stats", "send_id", &["campaign_id"]))
            .await?;
        db.execute_unprepared("CREATE INDEX idx_send_stats_campaign ON send_stats (campaign_id)")
            .await?;

        // The counters of the messages already there.
        let sums: Vec<String> = COUNTERS
            .iter()
            .map(|(_, e)| format!("SUM({})", of(e, "message")))
            .collect();
        let names: Vec<&str> = COUNTERS.iter().map(|(n, _)| *n).collect();
        db.execute_unprepared(&format!(
            "INSERT INTO campaign_stats (campaign_id, org_id, {}) SELECT campaign_id, \
             MIN(org_id), {} FROM message WHERE NOT seed GROUP BY campaign_id",
            names.join(", "),
            sums.join(", ")
        ))
        .await?;
        db.execute_unprepared(&format!(
            "INSERT INTO send_stats (send_id, campaign_id, org_id, {}) SELECT send_id, \
             MIN(campaign_id), MIN(org_id), {} FROM message WHERE NOT seed GROUP BY send_id",
            names.join(", "),
            sums.join(", ")
        ))
        .await?;

        match db.get_database_backend() {
            DatabaseBackend::Postgres => {
                let body = |change: &str| {
                    statements(change)
                        .into_iter()
                        .map(|s| format!("{s};"))
                        .collect::<Vec<_>>()
                        .join("\n    ")
                };
                db.execute_unprepared(&format!(
                    "CREATE FUNCTION message_stats() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    IF NEW.seed THEN RETURN NULL; END IF;
    {}
  ELSIF TG_OP = 'DELETE' THEN
    IF OLD.seed THEN RETURN NULL; END IF;
    {}
  ELSE
    IF NEW.seed OR NOT ({}) THEN RETURN NULL; END IF;
    {}
  END IF;
  RETURN NULL;
END $$",
                    body("insert"),
                    body("delete"),
                    changed("IS DISTINCT FROM"),
                    body("update"),
                ))
                .await?;
                db.execute_unprepared(
                    "CREATE TRIGGER message_stats AFTER INSERT OR UPDATE OR DELETE ON message \
                     FOR EACH ROW EXECUTE FUNCTION message_stats()",
                )
                .await?;
            }
            _ => {
                for (change, event, when) in [
                    ("insert", "INSERT", "NOT NEW.seed".to_owned()),
                    ("delete", "DELETE", "NOT OLD.seed".to_owned()),
                    (
                        "update",
                        "UPDATE",
                        format!("NOT NEW.seed AND ({})", changed("IS NOT")),
                    ),
                ] {
                    let body: String = statements(change)
                        .into_iter()
                        // In a trigger, SQLite reads `VALUES (…) ON CONFLICT` as intended.
                        .map(|s| format!("{s};\n"))
                        .collect();
                    db.execute_unprepared(&format!(
                        "CREATE TRIGGER message_stats_{change} AFTER {event} ON message \
                         WHEN {when} BEGIN\n{body}END"
                    ))
                    .await?;
                }
            }
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        match db.get_database_backend() {
            DatabaseBackend::Postgres => {
                db.execute_unprepared("DROP TRIGGER message_stats ON message")
                    .await?;
                db.execute_unprepared("DROP FUNCTION message_stats()")
                    .await?;
            }
            _ => {
                for change in ["insert", "delete", "update"] {
                    db.execute_unprepared(&format!("DROP TRIGGER message_stats_{change}"))
                        .await?;
                }
            }
        }
        for table in [
            "send_stats",
            "campaign_stats",
            "webhook_receipt",
            "campaign_hour",
            "tracking_event",
            "message_click",
            "link",
        ] {
            m.drop_table(Table::drop().table(a(table)).to_owned())
                .await?;
        }
        db.execute_unprepared("DROP INDEX idx_message_campaign_id")
            .await?;
        m.alter_table(
            Table::alter()
                .table(a("sending_config"))
                .drop_column(a("ses_topic_arn"))
                .to_owned(),
        )
        .await?;
        for col in ["human_opened_at", "human_clicked_at", "unsubscribed_at"] {
            m.alter_table(
                Table::alter()
                    .table(a("message"))
                    .drop_column(a(col))
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }
}
