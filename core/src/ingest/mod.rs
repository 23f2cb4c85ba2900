//! Storing what comes in from the REST API and CSV imports ([`imports`]), with idempotency
//! keys for retried requests ([`idempotency`]): contacts merged by email address,
//! records and events attached to contacts. Validation is a plain function per input (tested
//! by tables below); storing takes a connection or a transaction, so that a batch, its
//! idempotency key and an import's progress commit together or not at all.

pub mod idempotency;
pub mod imports;

use crate::Result;
use crate::domain::access::{Action, Actor};
use crate::domain::ingest::{ContactInput, EventInput, FieldError, Outcome, Record, RecordInput};
use crate::domain::{ContactStatus, EmailAddress, Role};
use crate::entity::values::{Attributes, Properties};
use crate::entity::{
    app_user, booking, contact, contact_event, contact_group, contact_group_member, credential,
    enrollment, pass, purchase, subscription,
};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel,
    QueryFilter, QuerySelect, TryIntoModel,
};
use std::collections::{BTreeMap, HashMap};

pub const MAX_BATCH: usize = 1000;
const MAX_TEXT: usize = 200;
const MAX_ATTRIBUTES: usize = 50;
const MAX_ATTRIBUTE_VALUE: usize = 1000;
const MAX_GROUPS: usize = 20;

// ---------------------------------------------------------------------------------------------
// Validation

/// A contact input that passed validation, normalised.
#[derive(Clone, Debug, PartialEq)]
pub struct ValidContact {
    pub email: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub phone: Option<String>,
    pub language: Option<String>,
    pub time_zone: Option<String>,
    pub active: Option<bool>,
    pub marketing_consent: Option<bool>,
    pub newsletter_consent: Option<bool>,
    pub attributes: BTreeMap<String, String>,
    pub groups: Vec<String>,
    /// The account manager's address as given (normalised); empty to remove the assignment.
    pub account_manager: Option<String>,
    /// The account manager found for it: `Some(None)` removes the assignment, `None` keeps it.
    pub assigned_user_id: Option<Option<i64>>,
}

/// Email addresses are stored in lower case so that merging by address ignores case.
pub fn normalise_email(input: &str) -> Result<String, String> {
    EmailAddress::parse(input)
        .map(|e| e.as_str().to_lowercase())
        .map_err(|e| format!("not a valid email address: {e}"))
}

fn text(value: &Option<String>, max: usize) -> Result<Option<String>, String> {
    match value.as_deref().map(str::trim) {
        None => Ok(None),
        Some(v) if v.chars().count() > max => Err(format!("longer than {max} characters")),
        Some(v) if v.chars().any(char::is_control) => Err("contains control characters".into()),
        Some(v) => Ok(Some(v.to_owned())),
    }
}

/// `+44 (20) 7946-0958` → `+442079460958`. Needs the country code; 8 to 15 digits.
pub fn normalise_phone(input: &str) -> Result<String, String> {
    let compact: String = input
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '(' | ')' | '.'))
        .collect();
    let digits = compact
        .strip_prefix('+')
        .ok_or("write the number with its country code, like +44 20 7946 0958".to_owned())?;
    if !digits.chars().all(|c| c.is_ascii_digit()) {
        return Err("a phone number has only digits, spaces, dashes and brackets".into());
    }
    if !(8..=15).contains(&digits.len()) || digits.starts_with('0') {
        return Err("not a valid international phone number".into());
    }
    Ok(compact)
}

/// `EN-gb` → `en-GB`. A primary language of 2 or 3 letters and an optional region.
pub fn normalise_language(input: &str) -> Result<String, String> {
    let input = input.trim().replace('_', "-");
    let mut parts = input.split('-');
    let primary = parts.next().unwrap_or_default().to_ascii_lowercase();
    let region = parts.next();
    let ok = (2..=3).contains(&primary.len())
        && primary.chars().all(|c| c.is_ascii_lowercase())
        && parts.next().is_none()
        && region.is_none_or(|r| {
            (2..=3).contains(&r.len()) && r.chars().all(|c| c.is_ascii_alphanumeric())
        });
    if !ok {
        return Err("not a language code like en, de or pt-BR".into());
    }
    Ok(match region {
        Some(r) => format!("{primary}-{}", r.to_ascii_uppercase()),
        None => primary,
    })
}

/// An IANA time zone name, in its canonical spelling.
pub fn normalise_time_zone(input: &str) -> Result<String, String> {
    let input = input.trim();
    input
        .parse::<chrono_tz::Tz>()
        .or_else(|_| chrono_tz::Tz::from_str_insensitive(input))
        .map(|tz| tz.name().to_owned())
        .map_err(|_| "not a time zone name like Europe/Berlin or UTC".into())
}

pub(crate) fn attribute_key_ok(key: &str) -> bool {
    (1..=40).contains(&key.len())
        && key.starts_with(|c: char| c.is_ascii_lowercase())
        && key
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

pub fn validate_contact(input: &ContactInput) -> Result<ValidContact, Vec<FieldError>> {
    let mut errors = Vec::new();
    let mut check = |field: &str, r: Result<Option<String>, String>| match r {
        Ok(v) => v,
        Err(message) => {
            errors.push(FieldError::new(field, message));
            None
        }
    };
    let email = check("email", normalise_email(&input.email).map(Some));
    let first_name = check("first_name", text(&input.first_name, 100));
    let last_name = check("last_name", text(&input.last_name, 100));
    let phone = check(
        "phone",
        match input.phone.as_deref().map(str::trim) {
            None | Some("") => Ok(None),
            Some(p) => normalise_phone(p).map(Some),
        },
    );
    let language = check(
        "language",
        input
            .language
            .as_deref()
            .map(normalise_language)
            .transpose(),
    );
    let time_zone = check(
        "time_zone",
        input
            .time_zone
            .as_deref()
            .map(normalise_time_zone)
            .transpose(),
    );
    let account_manager = check(
        "account_manager",
        match input.account_manager.as_deref().map(str::trim) {
            None => Ok(None),
            Some("") => Ok(Some(String::new())),
            Some(m) => normalise_email(m).map(Some),
        },
    );
    if input.attributes.len() > MAX_ATTRIBUTES {
        errors.push(FieldError::new(
            "attributes",
            format!("at most {MAX_ATTRIBUTES} attributes"),
        ));
    }
    let mut attributes = BTreeMap::new();
    for (key, value) in &input.attributes {
        if !attribute_key_ok(key) {
            errors.push(FieldError::new(
                format!("attributes.{key}"),
                "attribute names are 1 to 40 lower-case letters, digits and _, starting with a letter",
            ));
        } else if value.chars().count() > MAX_ATTRIBUTE_VALUE {
            errors.push(FieldError::new(
                format!("attributes.{key}"),
                format!("longer than {MAX_ATTRIBUTE_VALUE} characters"),
            ));
        } else {
            attributes.insert(key.clone(), value.trim().to_owned());
        }
    }
    let mut groups: Vec<String> = Vec::new();
    if input.groups.len() > MAX_GROUPS {
        errors.push(FieldError::new(
            "groups",
            format!("at most {MAX_GROUPS} groups"),
        ));
    }
    for (i, g) in input.groups.iter().enumerate() {
        match text(&Some(g.clone()), 100) {
            Ok(Some(g)) if !g.is_empty() => {
                if !groups.contains(&g) {
                    groups.push(g)
                }
            }
            Ok(_) => errors.push(FieldError::new(format!("groups[{i}]"), "empty group name")),
            Err(message) => errors.push(FieldError::new(format!("groups[{i}]"), message)),
        }
    }
    match (email, errors.is_empty()) {
        (Some(email), true) => Ok(ValidContact {
            email,
            first_name,
            last_name,
            phone,
            language,
            time_zone,
            active: input.active,
            marketing_consent: input.marketing_consent,
            newsletter_consent: input.newsletter_consent,
            attributes,
            groups,
            account_manager,
            assigned_user_id: None,
        }),
        _ => Err(errors),
    }
}

fn required(field: &str, value: &str, errors: &mut Vec<FieldError>) {
    let v = value.trim();
    if v.is_empty() {
        errors.push(FieldError::new(field, "required"));
    } else if v.chars().count() > MAX_TEXT {
        errors.push(FieldError::new(
            field,
            format!("longer than {MAX_TEXT} characters"),
        ));
    }
}

fn in_order(
    field: &str,
    from: DateTime<Utc>,
    to: Option<DateTime<Utc>>,
    errors: &mut Vec<FieldError>,
) {
    if to.is_some_and(|to| to < from) {
        errors.push(FieldError::new(field, "is before the start"));
    }
}

fn external_id(value: &Option<String>, errors: &mut Vec<FieldError>) {
    if let Some(id) = value {
        required("external_id", id, errors);
    }
}

pub fn validate_record(input: &RecordInput) -> Result<String, Vec<FieldError>> {
    let mut errors = Vec::new();
    let email = normalise_email(&input.email);
    if let Err(m) = &email {
        errors.push(FieldError::new("email", m.clone()));
    }
    external_id(&input.external_id, &mut errors);
    let mut sub = Vec::new();
    match &input.record {
        Record::Credential {
            collection,
            name,
            published_at,
            renewed_at,
            expires_at,
        } => {
            required("collection", collection, &mut sub);
            required("name", name, &mut sub);
            in_order("expires_at", *published_at, *expires_at, &mut sub);
            in_order("renewed_at", *published_at, *renewed_at, &mut sub);
        }
        Record::Enrollment {
            course,
            category,
            trainer,
            starts_at,
            ends_at,
            ..
        } => {
            required("course", course, &mut sub);
            for (f, v) in [("category", category), ("trainer", trainer)] {
                if v.chars().count() > MAX_TEXT {
                    sub.push(FieldError::new(
                        f,
                        format!("longer than {MAX_TEXT} characters"),
                    ));
                }
            }
            in_order("ends_at", *starts_at, Some(*ends_at), &mut sub);
        }
        Record::Booking { .. } => {}
        Record::Pass {
            valid_from,
            valid_to,
        } => in_order("valid_to", *valid_from, Some(*valid_to), &mut sub),
        Record::Subscription {
            period_start,
            period_end,
            ..
        } => in_order("period_end", *period_start, *period_end, &mut sub),
        Record::Order { amount_cents, .. } => {
            if *amount_cents < 0 {
                sub.push(FieldError::new("amount_cents", "must not be negative"));
            }
        }
    }
    errors.extend(sub.into_iter().map(|e| e.under("record")));
    match email {
        Ok(email) if errors.is_empty() => Ok(email),
        _ => Err(errors),
    }
}

pub fn validate_event(input: &EventInput) -> Result<String, Vec<FieldError>> {
    let mut errors = Vec::new();
    let email = normalise_email(&input.email);
    if let Err(m) = &email {
        errors.push(FieldError::new("email", m.clone()));
    }
    let name_ok = (1..=100).contains(&input.name.len())
        && input.name.chars().all(|c| {
            c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '_' | '.' | ':' | '-')
        });
    if !name_ok {
        errors.push(FieldError::new(
            "name",
            "event names are 1 to 100 lower-case letters, digits and _ . : -",
        ));
    }
    external_id(&input.external_id, &mut errors);
    if serde_json::to_string(&input.properties).map_or(0, |s| s.len()) > 16 * 1024 {
        errors.push(FieldError::new("properties", "larger than 16 KiB"));
    }
    match email {
        Ok(email) if errors.is_empty() => Ok(email),
        _ => Err(errors),
    }
}

/// Validates every item of a batch; the errors name the item (`contacts[3].email`).
pub fn validate_batch<T, V>(
    name: &str,
    items: &[T],
    validate: impl Fn(&T) -> Result<V, Vec<FieldError>>,
) -> Result<Vec<V>, Vec<FieldError>> {
    if items.is_empty() {
        return Err(vec![FieldError::new(name, "send at least one item")]);
    }
    if items.len() > MAX_BATCH {
        return Err(vec![FieldError::new(
            name,
            format!("at most {MAX_BATCH} items per request"),
        )]);
    }
    let mut valid = Vec::with_capacity(items.len());
    let mut errors = Vec::new();
    for (i, item) in items.iter().enumerate() {
        match validate(item) {
            Ok(v) => valid.push(v),
            Err(e) => errors.extend(e.into_iter().map(|e| e.under(&format!("{name}[{i}]")))),
        }
    }
    if errors.is_empty() {
        Ok(valid)
    } else {
        Err(errors)
    }
}

// ---------------------------------------------------------------------------------------------
// Storing

/// What one stored contact became.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Stored {
    pub id: i64,
    pub outcome: Outcome,
}

/// The contact `old` (or a new one) with `input` applied. Consent changes are stamped with `now`
/// and `source`.
fn apply(
    org_id: i64,
    old: Option<&contact::Model>,
    input: &ValidContact,
    source: &str,
    now: DateTime<Utc>,
) -> contact::Model {
    let mut c = old.cloned().unwrap_or_else(|| contact::Model {
        id: 0,
        org_id,
        email: Some(input.email.clone()),
        phone: None,
        first_name: String::new(),
        last_name: String::new(),
        language: "en".into(),
        time_zone: "UTC".into(),
        status: ContactStatus::Active,
        created_at: now,
        updated_at: now,
        assigned_user_id: None,
        marketing_consent: false,
        newsletter_consent: false,
        attributes: Attributes::default(),
        marketing_consent_at: None,
        newsletter_consent_at: None,
        marketing_consent_source: None,
        newsletter_consent_source: None,
    });
    if let Some(v) = &input.first_name {
        c.first_name = v.clone();
    }
    if let Some(v) = &input.last_name {
        c.last_name = v.clone();
    }
    if let Some(v) = &input.phone {
        c.phone = Some(v.clone());
    }
    if let Some(v) = &input.language {
        c.language = v.clone();
    }
    if let Some(v) = &input.time_zone {
        c.time_zone = v.clone();
    }
    if let Some(active) = input.active {
        c.status = if active {
            ContactStatus::Active
        } else {
            ContactStatus::Inactive
        };
    }
    if let Some(assigned) = input.assigned_user_id {
        c.assigned_user_id = assigned;
    }
    let stamp = |given: Option<bool>,
                 consent: &mut bool,
                 at: &mut Option<DateTime<Utc>>,
                 how: &mut Option<String>| {
        if let Some(given) = given
            && (given != *consent || at.is_none())
        {
            *consent = given;
            *at = Some(now);
            *how = Some(source.to_owned());
        }
    };
    stamp(
        input.marketing_consent,
        &mut c.marketing_consent,
        &mut c.marketing_consent_at,
        &mut c.marketing_consent_source,
    );
    stamp(
        input.newsletter_consent,
        &mut c.newsletter_consent,
        &mut c.newsletter_consent_at,
        &mut c.newsletter_consent_source,
    );
    for (k, v) in &input.attributes {
        c.attributes.0.insert(k.clone(), v.clone());
    }
    c
}

/// The organisation's account managers (users with that role), by address.
pub(crate) async fn account_managers<C: ConnectionTrait>(
    db: &C,
    org_id: i64,
) -> Result<HashMap<String, i64>> {
    Ok(app_user::Entity::find()
        .filter(app_user::Column::OrgId.eq(org_id))
        .filter(app_user::Column::Role.eq(Role::Member))
        .all(db)
        .await?
        .into_iter()
        .map(|u| (u.email.to_lowercase(), u.id))
        .collect())
}

/// Finds the account manager a contact names; `Err` with the address when there is none.
pub(crate) fn resolve_manager(
    contact: &mut ValidContact,
    managers: &HashMap<String, i64>,
) -> Result<(), String> {
    contact.assigned_user_id = match contact.account_manager.as_deref() {
        None => None,
        Some("") => Some(None),
        Some(email) => match managers.get(email) {
            Some(id) => Some(Some(*id)),
            None => return Err(email.to_owned()),
        },
    };
    Ok(())
}

/// Creates or updates contacts by email address, in order (a later item for the same address
/// updates the earlier one), and adds them to the named groups. Naming an account manager
/// needs the right to assign contacts, and each must be an account manager of the
/// organisation; an error names the items at fault and nothing is stored.
pub async fn upsert_contacts<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    inputs: &[ValidContact],
    source: &str,
    now: DateTime<Utc>,
) -> Result<Vec<Stored>, IngestError> {
    actor
        .require(Action::WriteContacts)
        .map_err(crate::Error::from)?;
    if actor.assigned_to().is_some() {
        // Account managers change their own contacts one at a time, not in batches that could
        // create or take over others.
        return Err(crate::Error::Forbidden(
            "Account managers cannot create or update contacts in bulk.".into(),
        )
        .into());
    }
    let mut inputs = inputs.to_vec();
    if inputs.iter().any(|c| c.account_manager.is_some()) {
        actor
            .require(Action::AssignContacts)
            .map_err(crate::Error::from)?;
        let managers = account_managers(db, actor.org_id()).await?;
        let mut errors = Vec::new();
        for (i, c) in inputs.iter_mut().enumerate() {
            if let Err(email) = resolve_manager(c, &managers) {
                errors.push(FieldError::new(
                    format!("contacts[{i}].account_manager"),
                    format!("{email} is not an account manager of this organisation"),
                ));
            }
        }
        if !errors.is_empty() {
            return Err(IngestError::Fields(errors));
        }
    }
    Ok(store_contacts(db, actor.org_id(), &inputs, source, now).await?)
}

/// [`upsert_contacts`] for inputs already allowed and resolved.
pub(crate) async fn store_contacts<C: ConnectionTrait>(
    db: &C,
    org_id: i64,
    inputs: &[ValidContact],
    source: &str,
    now: DateTime<Utc>,
) -> Result<Vec<Stored>> {
    let now = micros(now);
    let mut known: HashMap<String, contact::Model> = HashMap::new();
    for chunk in inputs.chunks(500) {
        let emails: Vec<&str> = chunk.iter().map(|c| c.email.as_str()).collect();
        for c in contact::Entity::find()
            .filter(contact::Column::OrgId.eq(org_id))
            .filter(contact::Column::Email.is_in(emails))
            .all(db)
            .await?
        {
            if let Some(email) = c.email.clone() {
                known.insert(email, c);
            }
        }
    }
    let group_ids = ensure_groups(
        db,
        org_id,
        inputs.iter().flat_map(|c| c.groups.iter().cloned()),
        now,
    )
    .await?;
    // First in memory, in order: each input applied to the state the previous ones left, so a
    // later row for the same address updates the earlier one. Then one write per contact that
    // changed (new contacts in multi-row inserts).
    struct State {
        stored: Option<contact::Model>,
        current: contact::Model,
    }
    let mut states: HashMap<String, State> = known
        .into_iter()
        .map(|(email, c)| {
            (
                email,
                State {
                    stored: Some(c.clone()),
                    current: c,
                },
            )
        })
        .collect();
    let mut outcomes = Vec::with_capacity(inputs.len());
    for input in inputs {
        match states.get_mut(&input.email) {
            None => {
                let new = apply(org_id, None, input, source, now);
                states.insert(
                    input.email.clone(),
                    State {
                        stored: None,
                        current: new,
                    },
                );
                outcomes.push(Outcome::Created);
            }
            Some(state) => {
                let new = apply(org_id, Some(&state.current), input, source, now);
                outcomes.push(if new == state.current {
                    Outcome::Unchanged
                } else {
                    Outcome::Updated
                });
                state.current = new;
            }
        }
    }
    let mut ids: HashMap<String, i64> = HashMap::new();
    let mut new_contacts = Vec::new();
    for (email, state) in &states {
        match &state.stored {
            Some(stored) if *stored == state.current => {
                ids.insert(email.clone(), stored.id);
            }
            Some(stored) => {
                let mut changed = state.current.clone();
                changed.updated_at = now;
                changed.into_active_model().reset_all().update(db).await?;
                ids.insert(email.clone(), stored.id);
            }
            None => {
                let mut am = state.current.clone().into_active_model().reset_all();
                am.id = sea_orm::ActiveValue::NotSet;
                new_contacts.push(am);
            }
        }
    }
    for chunk in new_contacts.chunks(200) {
        for c in contact::Entity::insert_many(chunk.to_vec())
            .exec_with_returning(db)
            .await?
        {
            if let Some(email) = c.email {
                ids.insert(email, c.id);
            }
        }
    }
    let mut stored = Vec::with_capacity(inputs.len());
    let mut memberships = Vec::new();
    for (input, outcome) in inputs.iter().zip(outcomes) {
        let id = ids[&input.email];
        for g in &input.groups {
            memberships.push((group_ids[g], id));
        }
        stored.push(Stored { id, outcome });
    }
    let added = add_memberships(db, &memberships).await?;
    // Joining a group changes the contact even when its fields did not.
    for s in stored.iter_mut() {
        if s.outcome == Outcome::Unchanged && added.contains(&s.id) {
            s.outcome = Outcome::Updated;
        }
    }
    Ok(stored)
}

/// The ids of the named groups, creating those that do not exist.
pub(crate) async fn ensure_groups<C: ConnectionTrait>(
    db: &C,
    org_id: i64,
    names: impl IntoIterator<Item = String>,
    now: DateTime<Utc>,
) -> Result<HashMap<String, i64>> {
    let mut names: Vec<String> = names.into_iter().collect();
    names.sort();
    names.dedup();
    let mut ids = HashMap::new();
    if names.is_empty() {
        return Ok(ids);
    }
    for g in contact_group::Entity::find()
        .filter(contact_group::Column::OrgId.eq(org_id))
        .filter(contact_group::Column::Name.is_in(names.clone()))
        .all(db)
        .await?
    {
        ids.insert(g.name, g.id);
    }
    for name in names {
        if let std::collections::hash_map::Entry::Vacant(slot) = ids.entry(name) {
            let g = contact_group::ActiveModel {
                org_id: Set(org_id),
                name: Set(slot.key().clone()),
                created_at: Set(now),
                ..Default::default()
            }
            .insert(db)
            .await?;
            slot.insert(g.id);
        }
    }
    Ok(ids)
}

/// Adds (group, contact) memberships that do not exist yet; returns the contacts that joined a
/// group.
pub(crate) async fn add_memberships<C: ConnectionTrait>(
    db: &C,
    pairs: &[(i64, i64)],
) -> Result<Vec<i64>> {
    use std::collections::BTreeSet;
    let wanted: BTreeSet<(i64, i64)> = pairs.iter().copied().collect();
    let contacts: BTreeSet<i64> = wanted.iter().map(|(_, c)| *c).collect();
    let contacts: Vec<i64> = contacts.into_iter().collect();
    let mut existing = BTreeSet::new();
    for chunk in contacts.chunks(500) {
        for m in contact_group_member::Entity::find()
            .filter(contact_group_member::Column::ContactId.is_in(chunk.to_vec()))
            .all(db)
            .await?
        {
            existing.insert((m.group_id, m.contact_id));
        }
    }
    let missing: Vec<(i64, i64)> = wanted.difference(&existing).copied().collect();
    for chunk in missing.chunks(500) {
        contact_group_member::Entity::insert_many(chunk.iter().map(|&(group_id, contact_id)| {
            contact_group_member::ActiveModel {
                group_id: Set(group_id),
                contact_id: Set(contact_id),
            }
        }))
        // Another writer may have added the same membership meanwhile.
        .on_conflict(
            OnConflict::columns([
                contact_group_member::Column::GroupId,
                contact_group_member::Column::ContactId,
            ])
            .do_nothing()
            .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    }
    Ok(missing.into_iter().map(|(_, c)| c).collect())
}

/// The ids of the contacts with these addresses; an error names each unknown one.
async fn contact_ids_by_email<C: ConnectionTrait>(
    db: &C,
    org_id: i64,
    name: &str,
    emails: &[String],
) -> Result<Vec<i64>, IngestError> {
    let mut ids = HashMap::new();
    for chunk in emails.chunks(500) {
        for (id, email) in contact::Entity::find()
            .select_only()
            .column(contact::Column::Id)
            .column(contact::Column::Email)
            .filter(contact::Column::OrgId.eq(org_id))
            .filter(contact::Column::Email.is_in(chunk.to_vec()))
            .into_tuple::<(i64, Option<String>)>()
            .all(db)
            .await?
        {
            if let Some(email) = email {
                ids.insert(email, id);
            }
        }
    }
    let mut out = Vec::with_capacity(emails.len());
    let mut errors = Vec::new();
    for (i, email) in emails.iter().enumerate() {
        match ids.get(email) {
            Some(id) => out.push(*id),
            None => errors.push(FieldError::new(
                format!("{name}[{i}].email"),
                "no contact has this address; create it first",
            )),
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(IngestError::Fields(errors))
    }
}

/// Why a batch was not stored.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("invalid input")]
    Fields(Vec<FieldError>),
    #[error(transparent)]
    Core(#[from] crate::Error),
}

impl From<sea_orm::DbErr> for IngestError {
    fn from(e: sea_orm::DbErr) -> Self {
        IngestError::Core(e.into())
    }
}

/// Stores one table's records: `$items` are (position in the request, external id, record).
/// Outcomes go to `$out` at each record's position.
macro_rules! store_batch {
    ($db:expr, $org_id:expr, $module:ident, $items:expr, $out:expr) => {{
        let items: Vec<(usize, Option<String>, $module::ActiveModel)> = $items;
        if !items.is_empty() {
            let exts: Vec<String> = items.iter().filter_map(|(_, e, _)| e.clone()).collect();
            let mut known: HashMap<String, $module::Model> = HashMap::new();
            for chunk in exts.chunks(500) {
                for m in $module::Entity::find()
                    .filter($module::Column::OrgId.eq($org_id))
                    .filter($module::Column::ExternalId.is_in(chunk.to_vec()))
                    .all($db)
                    .await?
                {
                    if let Some(e) = m.external_id.clone() {
                        known.insert(e, m);
                    }
                }
            }
            let mut inserts: Vec<(usize, $module::ActiveModel)> = Vec::new();
            // An external id new to the database but sent twice in this request: the later
            // record is stored (it updates the earlier one).
            let mut first_new: HashMap<String, usize> = HashMap::new();
            let mut repeats: Vec<(usize, usize)> = Vec::new();
            for (i, ext, mut am) in items {
                am.org_id = Set($org_id);
                am.external_id = Set(ext.clone());
                if let Some(old) = ext.as_ref().and_then(|e| known.get(e)).cloned() {
                    am.id = Set(old.id);
                    // Every column is set now: the model that would be stored.
                    let candidate = am.clone().try_into_model()?;
                    let outcome = if candidate == old {
                        Outcome::Unchanged
                    } else {
                        let new = am.update($db).await?;
                        known.insert(ext.clone().unwrap_or_default(), new);
                        Outcome::Updated
                    };
                    $out[i] = Some(Stored {
                        id: old.id,
                        outcome,
                    });
                } else if let Some(&p) = ext.as_ref().and_then(|e| first_new.get(e)) {
                    inserts[p].1 = am;
                    repeats.push((i, p));
                } else {
                    if let Some(e) = &ext {
                        first_new.insert(e.clone(), inserts.len());
                    }
                    inserts.push((i, am));
                }
            }
            let mut new_ids = Vec::with_capacity(inserts.len());
            for chunk in inserts.chunks(200) {
                let rows = $module::Entity::insert_many(chunk.iter().map(|(_, am)| am.clone()))
                    .exec_with_returning($db)
                    .await?;
                // Both databases return the rows of a multi-row insert in the order given;
                // the contact of each is checked all the same.
                if rows.len() != chunk.len()
                    || rows
                        .iter()
                        .zip(chunk)
                        .any(|(m, (_, am))| Some(&m.contact_id) != am.contact_id.try_as_ref())
                {
                    return Err(crate::Error::Internal(
                        "inserted records came back out of order".into(),
                    )
                    .into());
                }
                new_ids.extend(rows.into_iter().map(|m| m.id));
            }
            for ((i, _), id) in inserts.iter().zip(&new_ids) {
                $out[*i] = Some(Stored {
                    id: *id,
                    outcome: Outcome::Created,
                });
            }
            for (i, p) in repeats {
                $out[i] = Some(Stored {
                    id: new_ids[p],
                    outcome: Outcome::Updated,
                });
            }
        }
    }};
}

/// Adds records to contacts (by email). A record whose `external_id` was sent before updates
/// that record instead. Statements per batch, not per record: one lookup of the contacts, one
/// of the known external ids and one insert of the new records per table; only records that
/// changed are updated one by one.
pub async fn add_records<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    records: &[RecordInput],
) -> Result<Vec<Stored>, IngestError> {
    actor
        .require(Action::WriteContacts)
        .map_err(crate::Error::from)?;
    let org_id = actor.org_id();
    let emails =
        validate_batch("records", records, validate_record).map_err(IngestError::Fields)?;
    let contact_ids = contact_ids_by_email(db, org_id, "records", &emails).await?;
    let mut batches = RecordBatches::default();
    for (i, (r, contact_id)) in records.iter().zip(contact_ids).enumerate() {
        batches.add(i, contact_id, r);
    }
    let mut out: Vec<Option<Stored>> = (0..records.len()).map(|_| None).collect();
    store_batch!(db, org_id, credential, batches.credential, out);
    store_batch!(db, org_id, enrollment, batches.enrollment, out);
    store_batch!(db, org_id, booking, batches.booking, out);
    store_batch!(db, org_id, pass, batches.pass, out);
    store_batch!(db, org_id, subscription, batches.subscription, out);
    store_batch!(db, org_id, purchase, batches.purchase, out);
    out.into_iter()
        .map(|s| s.ok_or_else(|| crate::Error::Internal("a record was not stored".into()).into()))
        .collect()
}

/// A request's records, by table.
#[derive(Default)]
struct RecordBatches {
    credential: Vec<(usize, Option<String>, credential::ActiveModel)>,
    enrollment: Vec<(usize, Option<String>, enrollment::ActiveModel)>,
    booking: Vec<(usize, Option<String>, booking::ActiveModel)>,
    pass: Vec<(usize, Option<String>, pass::ActiveModel)>,
    subscription: Vec<(usize, Option<String>, subscription::ActiveModel)>,
    purchase: Vec<(usize, Option<String>, purchase::ActiveModel)>,
}

impl RecordBatches {
    fn add(&mut self, i: usize, contact_id: i64, input: &RecordInput) {
        let ext = input.external_id.clone();
        match to_micros(input.record.clone()) {
            Record::Credential {
                collection,
                name,
                published_at,
                renewed_at,
                expires_at,
            } => self.credential.push((
                i,
                ext,
                credential::ActiveModel {
                    contact_id: Set(contact_id),
                    collection: Set(collection.trim().into()),
                    name: Set(name.trim().into()),
                    published_at: Set(published_at),
                    renewed_at: Set(renewed_at),
                    expires_at: Set(expires_at),
                    ..Default::default()
                },
            )),
            Record::Enrollment {
                course,
                category,
                trainer,
                online,
                remote,
                starts_at,
                ends_at,
            } => self.enrollment.push((
                i,
                ext,
                enrollment::ActiveModel {
                    contact_id: Set(contact_id),
                    course: Set(course.trim().into()),
                    category: Set(category.trim().into()),
                    trainer: Set(trainer.trim().into()),
                    online: Set(online),
                    remote: Set(remote),
                    starts_at: Set(starts_at),
                    ends_at: Set(ends_at),
                    ..Default::default()
                },
            )),
            Record::Booking { starts_at } => self.booking.push((
                i,
                ext,
                booking::ActiveModel {
                    contact_id: Set(contact_id),
                    starts_at: Set(starts_at),
                    ..Default::default()
                },
            )),
            Record::Pass {
                valid_from,
                valid_to,
            } => self.pass.push((
                i,
                ext,
                pass::ActiveModel {
                    contact_id: Set(contact_id),
                    valid_from: Set(valid_from),
                    valid_to: Set(valid_to),
                    ..Default::default()
                },
            )),
            Record::Subscription {
                status,
                period_start,
                period_end,
            } => self.subscription.push((
                i,
                ext,
                subscription::ActiveModel {
                    contact_id: Set(contact_id),
                    status: Set(status),
                    period_start: Set(period_start),
                    period_end: Set(period_end),
                    ..Default::default()
                },
            )),
            Record::Order {
                ordered_at,
                amount_cents,
            } => self.purchase.push((
                i,
                ext,
                purchase::ActiveModel {
                    contact_id: Set(contact_id),
                    ordered_at: Set(ordered_at),
                    amount_cents: Set(amount_cents),
                    ..Default::default()
                },
            )),
        }
    }
}

/// Times as the databases keep them (PostgreSQL: microseconds), so that sending the same
/// record again compares equal to what was stored.
fn micros(t: DateTime<Utc>) -> DateTime<Utc> {
    use chrono::SubsecRound;
    t.trunc_subsecs(6)
}

fn to_micros(r: Record) -> Record {
    let m = micros;
    let o = |t: Option<DateTime<Utc>>| t.map(micros);
    match r {
        Record::Credential {
            collection,
            name,
            published_at,
            renewed_at,
            expires_at,
        } => Record::Credential {
            collection,
            name,
            published_at: m(published_at),
            renewed_at: o(renewed_at),
            expires_at: o(expires_at),
        },
        Record::Enrollment {
            course,
            category,
            trainer,
            online,
            remote,
            starts_at,
            ends_at,
        } => Record::Enrollment {
            course,
            category,
            trainer,
            online,
            remote,
            starts_at: m(starts_at),
            ends_at: m(ends_at),
        },
        Record::Booking { starts_at } => Record::Booking {
            starts_at: m(starts_at),
        },
        Record::Pass {
            valid_from,
            valid_to,
        } => Record::Pass {
            valid_from: m(valid_from),
            valid_to: m(valid_to),
        },
        Record::Subscription {
            status,
            period_start,
            period_end,
        } => Record::Subscription {
            status,
            period_start: m(period_start),
            period_end: o(period_end),
        },
        Record::Order {
            ordered_at,
            amount_cents,
        } => Record::Order {
            ordered_at: m(ordered_at),
            amount_cents,
        },
    }
}

/// Records events (by email). An event whose `external_id` was received before is ignored.
/// One lookup of the known external ids and one insert per batch.
pub async fn add_events<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    events: &[EventInput],
    now: DateTime<Utc>,
) -> Result<Vec<Stored>, IngestError> {
    actor
        .require(Action::WriteContacts)
        .map_err(crate::Error::from)?;
    let org_id = actor.org_id();
    let emails = validate_batch("events", events, validate_event).map_err(IngestError::Fields)?;
    let contact_ids = contact_ids_by_email(db, org_id, "events", &emails).await?;
    let exts: Vec<String> = events
        .iter()
        .filter_map(|e| e.external_id.clone())
        .collect();
    let mut known: HashMap<String, i64> = HashMap::new();
    for chunk in exts.chunks(500) {
        for (id, ext) in contact_event::Entity::find()
            .select_only()
            .column(contact_event::Column::Id)
            .column(contact_event::Column::ExternalId)
            .filter(contact_event::Column::OrgId.eq(org_id))
            .filter(contact_event::Column::ExternalId.is_in(chunk.to_vec()))
            .into_tuple::<(i64, Option<String>)>()
            .all(db)
            .await?
        {
            if let Some(ext) = ext {
                known.insert(ext, id);
            }
        }
    }
    // (position, event) to insert; positions that repeat an external id of this request.
    let mut inserts: Vec<(usize, contact_event::ActiveModel)> = Vec::new();
    let mut first_new: HashMap<String, usize> = HashMap::new();
    let mut repeats: Vec<(usize, usize)> = Vec::new();
    let mut out: Vec<Option<Stored>> = (0..events.len()).map(|_| None).collect();
    for (i, (e, contact_id)) in events.iter().zip(contact_ids).enumerate() {
        if let Some(id) = e.external_id.as_ref().and_then(|x| known.get(x)) {
            out[i] = Some(Stored {
                id: *id,
                outcome: Outcome::Unchanged,
            });
            continue;
        }
        if let Some(&p) = e.external_id.as_ref().and_then(|x| first_new.get(x)) {
            repeats.push((i, p));
            continue;
        }
        if let Some(x) = &e.external_id {
            first_new.insert(x.clone(), inserts.len());
        }
        inserts.push((
            i,
            contact_event::ActiveModel {
                org_id: Set(org_id),
                contact_id: Set(contact_id),
                name: Set(e.name.clone()),
                occurred_at: Set(micros(e.occurred_at.unwrap_or(now))),
                properties: Set(Properties(e.properties.clone())),
                external_id: Set(e.external_id.clone()),
                ..Default::default()
            },
        ));
    }
    let mut new_ids = Vec::with_capacity(inserts.len());
    let mut triggering = Vec::new();
    for chunk in inserts.chunks(200) {
        let rows = contact_event::Entity::insert_many(chunk.iter().map(|(_, am)| am.clone()))
            .exec_with_returning(db)
            .await?;
        if rows.len() != chunk.len()
            || rows
                .iter()
                .zip(chunk)
                .any(|(m, (_, am))| Some(&m.contact_id) != am.contact_id.try_as_ref())
        {
            return Err(
                crate::Error::Internal("inserted events came back out of order".into()).into(),
            );
        }
        // Events that happened in the last day trigger campaigns; a backfill of old ones does
        // not.
        triggering.extend(
            rows.iter()
                .filter(|m| m.occurred_at >= now - chrono::Duration::days(1))
                .map(|m| crate::delivery::scheduler::StoredEvent {
                    id: m.id,
                    contact_id: m.contact_id,
                    name: m.name.clone(),
                    properties: m.properties.clone(),
                }),
        );
        new_ids.extend(rows.into_iter().map(|m| m.id));
    }
    crate::delivery::scheduler::on_events(db, org_id, &triggering, now).await?;
    for ((i, _), id) in inserts.iter().zip(&new_ids) {
        out[*i] = Some(Stored {
            id: *id,
            outcome: Outcome::Created,
        });
    }
    for (i, p) in repeats {
        out[i] = Some(Stored {
            id: new_ids[p],
            outcome: Outcome::Unchanged,
        });
    }
    out.into_iter()
        .map(|s| s.ok_or_else(|| crate::Error::Internal("an event was not stored".into()).into()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalised_or_refused() {
        for (input, expected) in [
            ("  Ada@Example.ORG ", Ok("ada@example.org")),
            ("ada@example", Err(())),
            ("ada.example.org", Err(())),
            ("", Err(())),
        ] {
            assert_eq!(
                normalise_email(input).map_err(|_| ()),
                expected.map(str::to_owned),
                "{input}"
            );
        }
    }

    #[test]
    fn phones() {
        for (input, expected) in [
            ("+44 (20) 7946-0958", Some("+442079460958")),
            ("+1.415.555.0100", Some("+14155550100")),
            ("020 7946 0958", None),
            ("+44 20 CALL ME", None),
            ("+123", None),
            ("+0123456789", None),
        ] {
            assert_eq!(normalise_phone(input).ok().as_deref(), expected, "{input}");
        }
    }

    #[test]
    fn languages() {
        for (input, expected) in [
            ("en", Some("en")),
            ("EN-gb", Some("en-GB")),
            ("pt_BR", Some("pt-BR")),
            ("es-419", Some("es-419")),
            ("english", None),
            ("e", None),
            ("en-GB-x", None),
        ] {
            assert_eq!(
                normalise_language(input).ok().as_deref(),
                expected,
                "{input}"
            );
        }
    }

    #[test]
    fn time_zones() {
        for (input, expected) in [
            ("Europe/Berlin", Some("Europe/Berlin")),
            ("europe/berlin", Some("Europe/Berlin")),
            ("UTC", Some("UTC")),
            ("Mars/Olympus_Mons", None),
            ("", None),
        ] {
            assert_eq!(
                normalise_time_zone(input).ok().as_deref(),
                expected,
                "{input}"
            );
        }
    }

    #[test]
    fn contact_errors_name_their_fields() {
        let input = ContactInput {
            email: "nope".into(),
            phone: Some("12345".into()),
            language: Some("klingon".into()),
            attributes: [("Bad Key".to_owned(), "v".to_owned())].into(),
            groups: vec!["".into()],
            ..Default::default()
        };
        let fields: Vec<String> = validate_contact(&input)
            .unwrap_err()
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(
            fields,
            [
                "email",
                "phone",
                "language",
                "attributes.Bad Key",
                "groups[0]"
            ]
        );
        let batch =
            validate_batch("contacts", std::slice::from_ref(&input), validate_contact).unwrap_err();
        assert_eq!(batch[0].field, "contacts[0].email");
        assert!(validate_batch::<ContactInput, _>("contacts", &[], validate_contact).is_err());
    }

    #[test]
    fn applying_the_same_input_twice_changes_nothing() {
        let now = Utc::now();
        let input = validate_contact(&ContactInput {
            email: "ADA@example.org".into(),
            first_name: Some(" Ada ".into()),
            marketing_consent: Some(true),
            attributes: [("plan".to_owned(), "gold".to_owned())].into(),
            ..Default::default()
        })
        .unwrap();
        let first = apply(1, None, &input, "import", now);
        assert_eq!(first.email.as_deref(), Some("ada@example.org"));
        assert_eq!(first.first_name, "Ada");
        assert_eq!(first.marketing_consent_source.as_deref(), Some("import"));
        let later = now + chrono::Duration::hours(1);
        let second = apply(1, Some(&first), &input, "api", later);
        assert_eq!(second, first, "re-applying must not touch consent stamps");
        let withdrawn = ValidContact {
            marketing_consent: Some(false),
            ..input
        };
        let third = apply(1, Some(&first), &withdrawn, "api", later);
        assert!(!third.marketing_consent);
        assert_eq!(third.marketing_consent_at, Some(later));
        assert_eq!(third.marketing_consent_source.as_deref(), Some("api"));
    }
}
