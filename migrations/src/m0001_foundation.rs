//! Organisations, accounts and sessions, the first contacts and templates, campaigns, and the
//! per-recipient message table that delivery and tracking build on.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Organisation {
    Table,
    Id,
    Slug,
    Name,
    CreatedAt,
}

#[derive(DeriveIden)]
enum AppUser {
    Table,
    Id,
    OrgId,
    Email,
    Name,
    Role,
    PasswordHash,
    PasswordChangedAt,
    CreatedAt,
    LastLoginAt,
}

#[derive(DeriveIden)]
enum Session {
    Table,
    Id,
    TokenHash,
    UserId,
    OrgId,
    CreatedAt,
    ExpiresAt,
    LastSeenAt,
}

#[derive(DeriveIden)]
enum LoginAttempt {
    Table,
    Id,
    Email,
    Ip,
    Succeeded,
    AttemptedAt,
}

#[derive(DeriveIden)]
enum Contact {
    Table,
    Id,
    OrgId,
    Email,
    Phone,
    FirstName,
    LastName,
    Language,
    TimeZone,
    Status,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Template {
    Table,
    Id,
    OrgId,
    Name,
    Kind,
    Subject,
    Preheader,
    HtmlBody,
    TextBody,
    IsSystem,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Campaign {
    Table,
    Id,
    OrgId,
    Name,
    Description,
    Goal,
    Kind,
    MessageType,
    Channel,
    Status,
    TemplateId,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
    ActivatedAt,
    LastSentAt,
}

#[derive(DeriveIden)]
enum CampaignSend {
    Table,
    Id,
    OrgId,
    CampaignId,
    StartedAt,
    CompletedAt,
}

#[derive(DeriveIden)]
enum Message {
    Table,
    Id,
    OrgId,
    CampaignId,
    SendId,
    ContactId,
    Channel,
    Recipient,
    State,
    ProviderMessageId,
    Error,
    Attempts,
    QueuedAt,
    SentAt,
    DeliveredAt,
    BouncedAt,
    BounceType,
    ComplainedAt,
    FailedAt,
    Opens,
    FirstOpenedAt,
    LastOpenedAt,
    Clicks,
    FirstClickedAt,
    LastClickedAt,
}

fn fk(
    name: &str,
    from: (impl IntoIden, impl IntoIden),
    to: (impl IntoIden, impl IntoIden),
    on_delete: ForeignKeyAction,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(name)
        .from(from.0, from.1)
        .to(to.0, to.1)
        .on_delete(on_delete)
        .to_owned()
}

/// `CREATE [UNIQUE] INDEX name ON table (cols...)`.
fn index<C: IntoIden>(
    name: &str,
    table: impl IntoIden,
    cols: impl IntoIterator<Item = C>,
    unique: bool,
) -> IndexCreateStatement {
    let mut index = Index::create();
    index.name(name).table(table);
    for col in cols {
        index.col(col);
    }
    if unique {
        index.unique();
    }
    index.to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Organisation::Table)
                .col(big_pk_auto(Organisation::Id))
                .col(string_uniq(Organisation::Slug))
                .col(string(Organisation::Name))
                .col(timestamp_with_time_zone(Organisation::CreatedAt))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(AppUser::Table)
                .col(big_pk_auto(AppUser::Id))
                .col(big_integer(AppUser::OrgId))
                // One account per address: signing in needs no organisation picker.
                .col(string_uniq(AppUser::Email))
                .col(string(AppUser::Name))
                .col(string(AppUser::Role))
                .col(string(AppUser::PasswordHash))
                .col(timestamp_with_time_zone(AppUser::PasswordChangedAt))
                .col(timestamp_with_time_zone(AppUser::CreatedAt))
                .col(timestamp_with_time_zone_null(AppUser::LastLoginAt))
                .foreign_key(&mut fk(
                    "fk_user_org",
                    (AppUser::Table, AppUser::OrgId),
                    (Organisation::Table, Organisation::Id),
                    ForeignKeyAction::Cascade,
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "idx_user_org",
            AppUser::Table,
            [AppUser::OrgId],
            false,
        ))
        .await?;

        m.create_table(
            Table::create()
                .table(Session::Table)
                .col(big_pk_auto(Session::Id))
                .col(string_uniq(Session::TokenHash))
                .col(big_integer(Session::UserId))
                .col(big_integer(Session::OrgId))
                .col(timestamp_with_time_zone(Session::CreatedAt))
                .col(timestamp_with_time_zone(Session::ExpiresAt))
                .col(timestamp_with_time_zone(Session::LastSeenAt))
                .foreign_key(&mut fk(
                    "fk_session_user",
                    (Session::Table, Session::UserId),
                    (AppUser::Table, AppUser::Id),
                    ForeignKeyAction::Cascade,
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "idx_session_user",
            Session::Table,
            [Session::UserId],
            false,
        ))
        .await?;

        m.create_table(
            Table::create()
                .table(LoginAttempt::Table)
                .col(big_pk_auto(LoginAttempt::Id))
                .col(string(LoginAttempt::Email))
                .col(string(LoginAttempt::Ip))
                .col(boolean(LoginAttempt::Succeeded))
                .col(timestamp_with_time_zone(LoginAttempt::AttemptedAt))
                .to_owned(),
        )
        .await?;
        for (name, col) in [
            ("idx_login_attempt_email", LoginAttempt::Email),
            ("idx_login_attempt_ip", LoginAttempt::Ip),
        ] {
            m.create_index(index(
                name,
                LoginAttempt::Table,
                [col, LoginAttempt::AttemptedAt],
                false,
            ))
            .await?;
        }

        m.create_table(
            Table::create()
                .table(Contact::Table)
                .col(big_pk_auto(Contact::Id))
                .col(big_integer(Contact::OrgId))
                .col(string_null(Contact::Email))
                .col(string_null(Contact::Phone))
                .col(string(Contact::FirstName))
                .col(string(Contact::LastName))
                .col(string(Contact::Language))
                .col(string(Contact::TimeZone))
                .col(string(Contact::Status))
                .col(timestamp_with_time_zone(Contact::CreatedAt))
                .col(timestamp_with_time_zone(Contact::UpdatedAt))
                .foreign_key(&mut fk(
                    "fk_contact_org",
                    (Contact::Table, Contact::OrgId),
                    (Organisation::Table, Organisation::Id),
                    ForeignKeyAction::Cascade,
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "idx_contact_org_email",
            Contact::Table,
            [Contact::OrgId, Contact::Email],
            true,
        ))
        .await?;

        m.create_table(
            Table::create()
                .table(Template::Table)
                .col(big_pk_auto(Template::Id))
                .col(big_integer(Template::OrgId))
                .col(string(Template::Name))
                .col(string(Template::Kind))
                .col(string(Template::Subject))
                .col(string(Template::Preheader))
                .col(text(Template::HtmlBody))
                .col(text(Template::TextBody))
                .col(boolean(Template::IsSystem))
                .col(timestamp_with_time_zone(Template::CreatedAt))
                .col(timestamp_with_time_zone(Template::UpdatedAt))
                .foreign_key(&mut fk(
                    "fk_template_org",
                    (Template::Table, Template::OrgId),
                    (Organisation::Table, Organisation::Id),
                    ForeignKeyAction::Cascade,
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "idx_template_org",
            Template::Table,
            [Template::OrgId],
            false,
        ))
        .await?;

        m.create_table(
            Table::create()
                .table(Campaign::Table)
                .col(big_pk_auto(Campaign::Id))
                .col(big_integer(Campaign::OrgId))
                .col(string_null(Campaign::Name))
                .col(text(Campaign::Description))
                .col(string(Campaign::Goal))
                .col(string(Campaign::Kind))
                .col(string(Campaign::MessageType))
                .col(string(Campaign::Channel))
                .col(string(Campaign::Status))
                .col(big_integer_null(Campaign::TemplateId))
                .col(big_integer_null(Campaign::CreatedBy))
                .col(timestamp_with_time_zone(Campaign::CreatedAt))
                .col(timestamp_with_time_zone(Campaign::UpdatedAt))
                .col(timestamp_with_time_zone_null(Campaign::ActivatedAt))
                .col(timestamp_with_time_zone_null(Campaign::LastSentAt))
                .foreign_key(&mut fk(
                    "fk_campaign_org",
                    (Campaign::Table, Campaign::OrgId),
                    (Organisation::Table, Organisation::Id),
                    ForeignKeyAction::Cascade,
                ))
                .foreign_key(&mut fk(
                    "fk_campaign_template",
                    (Campaign::Table, Campaign::TemplateId),
                    (Template::Table, Template::Id),
                    ForeignKeyAction::SetNull,
                ))
                .foreign_key(&mut fk(
                    "fk_campaign_creator",
                    (Campaign::Table, Campaign::CreatedBy),
                    (AppUser::Table, AppUser::Id),
                    ForeignKeyAction::SetNull,
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "idx_campaign_org_status",
            Campaign::Table,
            [Campaign::OrgId, Campaign::Status],
            false,
        ))
        .await?;

        m.create_table(
            Table::create()
                .table(CampaignSend::Table)
                .col(big_pk_auto(CampaignSend::Id))
                .col(big_integer(CampaignSend::OrgId))
                .col(big_integer(CampaignSend::CampaignId))
                .col(timestamp_with_time_zone(CampaignSend::StartedAt))
                .col(timestamp_with_time_zone_null(CampaignSend::CompletedAt))
                .foreign_key(&mut fk(
                    "fk_send_campaign",
                    (CampaignSend::Table, CampaignSend::CampaignId),
                    (Campaign::Table, Campaign::Id),
                    ForeignKeyAction::Cascade,
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "idx_send_campaign",
            CampaignSend::Table,
            [CampaignSend::CampaignId],
            false,
        ))
        .await?;

        // One row per recipient per send. Delivery claims rows by state; SES webhooks find them by
        // provider_message_id; tracking tokens name the row id.
        m.create_table(
            Table::create()
                .table(Message::Table)
                .col(big_pk_auto(Message::Id))
                .col(big_integer(Message::OrgId))
                .col(big_integer(Message::CampaignId))
                .col(big_integer(Message::SendId))
                .col(big_integer_null(Message::ContactId))
                .col(string(Message::Channel))
                .col(string(Message::Recipient))
                .col(string(Message::State))
                .col(string_null(Message::ProviderMessageId))
                .col(text_null(Message::Error))
                .col(integer(Message::Attempts).default(0))
                .col(timestamp_with_time_zone(Message::QueuedAt))
                .col(timestamp_with_time_zone_null(Message::SentAt))
                .col(timestamp_with_time_zone_null(Message::DeliveredAt))
                .col(timestamp_with_time_zone_null(Message::BouncedAt))
                .col(string_null(Message::BounceType))
                .col(timestamp_with_time_zone_null(Message::ComplainedAt))
                .col(timestamp_with_time_zone_null(Message::FailedAt))
                .col(integer(Message::Opens).default(0))
                .col(timestamp_with_time_zone_null(Message::FirstOpenedAt))
                .col(timestamp_with_time_zone_null(Message::LastOpenedAt))
                .col(integer(Message::Clicks).default(0))
                .col(timestamp_with_time_zone_null(Message::FirstClickedAt))
                .col(timestamp_with_time_zone_null(Message::LastClickedAt))
                .foreign_key(&mut fk(
                    "fk_message_campaign",
                    (Message::Table, Message::CampaignId),
                    (Campaign::Table, Campaign::Id),
                    ForeignKeyAction::Cascade,
                ))
                .foreign_key(&mut fk(
                    "fk_message_send",
                    (Message::Table, Message::SendId),
                    (CampaignSend::Table, CampaignSend::Id),
                    ForeignKeyAction::Cascade,
                ))
                .foreign_key(&mut fk(
                    "fk_message_contact",
                    (Message::Table, Message::ContactId),
                    (Contact::Table, Contact::Id),
                    ForeignKeyAction::SetNull,
                ))
                .to_owned(),
        )
        .await?;
        // Exactly once: a send reaches a contact at most once.
        m.create_index(index(
            "idx_message_send_contact",
            Message::Table,
            [Message::SendId, Message::ContactId],
            true,
        ))
        .await?;
        for (name, cols) in [
            (
                "idx_message_campaign_state",
                vec![Message::CampaignId, Message::State],
            ),
            ("idx_message_contact", vec![Message::ContactId]),
            ("idx_message_provider_id", vec![Message::ProviderMessageId]),
        ] {
            m.create_index(index(name, Message::Table, cols, false))
                .await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            Message::Table.into_iden(),
            CampaignSend::Table.into_iden(),
            Campaign::Table.into_iden(),
            Template::Table.into_iden(),
            Contact::Table.into_iden(),
            LoginAttempt::Table.into_iden(),
            Session::Table.into_iden(),
            AppUser::Table.into_iden(),
            Organisation::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
