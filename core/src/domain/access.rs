//! Who may do what: the one place that decides it. Every core function that reads or changes an
//! organisation's data takes the [`Actor`] and asks [`Actor::require`] before it touches
//! anything; the pages ask [`Actor::may`] (or [`role_may`]) only to hide what would be refused.
//!
//! Three kinds of actor act inside one organisation:
//! - a signed-in **user**, by role: admins may do everything; marketers build and run campaigns
//!   and templates and manage contacts; account managers (the `member` role) see and change
//!   only the contacts assigned to them;
//! - a REST **API key**, by the scopes chosen when it was created (`read`, `write`, `send`);
//! - the **system**: background jobs and the operator's command line, acting for one
//!   organisation with every permission.

use super::{CurrentUser, Role};
use serde::{Deserialize, Serialize};

/// Something an actor can ask to do within their organisation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Action {
    /// List and read contacts, their records and timelines; count audiences.
    ReadContacts,
    /// Create and update contacts, their records and events; add contacts to groups.
    WriteContacts,
    /// Assign contacts to account managers.
    AssignContacts,
    /// Upload and run CSV imports.
    ImportContacts,
    /// Create and delete groups.
    ManageGroups,
    /// List saved segments and their members.
    ReadSegments,
    /// Create and delete saved segments.
    ManageSegments,
    /// Suppression and seed lists.
    ManageLists,
    /// The campaign list and reports.
    ReadCampaigns,
    /// Create and change campaigns in the builder.
    EditCampaigns,
    /// Activate and deactivate campaigns (they send).
    ActivateCampaigns,
    /// Approve marketers' campaigns, where the organisation requires it.
    ApproveCampaigns,
    /// Send messages to chosen contacts now (send now, the transactional API); account
    /// managers only to the contacts assigned to them.
    SendMessages,
    /// List and read templates.
    ReadTemplates,
    /// Create and change templates.
    EditTemplates,
    /// The organisation's users and their roles.
    ManageUsers,
    /// REST API keys.
    ManageApiKeys,
    /// Organisation-wide settings (campaign approval).
    ManageSettings,
    /// Settings → System: the job queue.
    ViewSystem,
    /// Retry failed background jobs.
    RetryJobs,
    /// Read the development mailbox (every message the instance "sent" into it).
    ReadMailbox,
}

impl Action {
    pub const ALL: &'static [Action] = &[
        Action::ReadContacts,
        Action::WriteContacts,
        Action::AssignContacts,
        Action::ImportContacts,
        Action::ManageGroups,
        Action::ReadSegments,
        Action::ManageSegments,
        Action::ManageLists,
        Action::ReadCampaigns,
        Action::EditCampaigns,
        Action::ActivateCampaigns,
        Action::ApproveCampaigns,
        Action::SendMessages,
        Action::ReadTemplates,
        Action::EditTemplates,
        Action::ManageUsers,
        Action::ManageApiKeys,
        Action::ManageSettings,
        Action::ViewSystem,
        Action::RetryJobs,
        Action::ReadMailbox,
    ];

    /// In words, after "you may not …".
    pub fn describe(self) -> &'static str {
        match self {
            Action::ReadContacts => "read contacts",
            Action::WriteContacts => "change contacts",
            Action::AssignContacts => "assign contacts to account managers",
            Action::ImportContacts => "import contacts",
            Action::ManageGroups => "manage groups",
            Action::ReadSegments => "read segments",
            Action::ManageSegments => "manage segments",
            Action::ManageLists => "manage suppression and seed lists",
            Action::ReadCampaigns => "read campaigns",
            Action::EditCampaigns => "change campaigns",
            Action::ActivateCampaigns => "activate or deactivate campaigns",
            Action::ApproveCampaigns => "approve campaigns",
            Action::SendMessages => "send messages to contacts",
            Action::ReadTemplates => "read templates",
            Action::EditTemplates => "change templates",
            Action::ManageUsers => "manage users",
            Action::ManageApiKeys => "manage API keys",
            Action::ManageSettings => "change the organisation's settings",
            Action::ViewSystem => "see the system status",
            Action::RetryJobs => "retry background jobs",
            Action::ReadMailbox => "read the development mailbox",
        }
    }
}

/// What an API key may do, chosen when it is created.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum KeyScope {
    /// Read contacts, segments, campaigns and templates; count audiences.
    Read,
    /// Create and change contacts, records, events, segments, templates and campaigns.
    Write,
    /// Activate campaigns and send messages.
    Send,
}

impl KeyScope {
    pub const ALL: &'static [KeyScope] = &[KeyScope::Read, KeyScope::Write, KeyScope::Send];

    pub fn as_str(self) -> &'static str {
        match self {
            KeyScope::Read => "read",
            KeyScope::Write => "write",
            KeyScope::Send => "send",
        }
    }

    pub fn parse(text: &str) -> Option<KeyScope> {
        KeyScope::ALL
            .iter()
            .copied()
            .find(|s| s.as_str() == text.trim())
    }

    pub fn label(self) -> &'static str {
        match self {
            KeyScope::Read => "Read",
            KeyScope::Write => "Write",
            KeyScope::Send => "Send",
        }
    }
}

/// A set of scopes, stored as their names separated by spaces (`"read write"`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct KeyScopes(pub Vec<KeyScope>);

impl KeyScopes {
    pub fn all() -> Self {
        KeyScopes(KeyScope::ALL.to_vec())
    }

    pub fn contains(&self, scope: KeyScope) -> bool {
        self.0.contains(&scope)
    }

    /// Parses `"read write"` or `"read,write"`; refuses unknown names and an empty set.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut scopes = Vec::new();
        for name in text
            .split([' ', ','])
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            let scope = KeyScope::parse(name).ok_or_else(|| {
                format!("Unknown API key scope “{name}”: use read, write and send.")
            })?;
            if !scopes.contains(&scope) {
                scopes.push(scope);
            }
        }
        if scopes.is_empty() {
            return Err("Give the key at least one scope: read, write or send.".into());
        }
        scopes.sort();
        Ok(KeyScopes(scopes))
    }

    /// The stored form.
    pub fn to_text(&self) -> String {
        let mut scopes = self.0.clone();
        scopes.sort();
        scopes.dedup();
        scopes
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// An API key as it acts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyActor {
    pub org_id: i64,
    pub key_id: i64,
    pub scopes: KeyScopes,
}

/// Whoever asks core to read or change an organisation's data.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Actor {
    User(CurrentUser),
    ApiKey(KeyActor),
    /// Background jobs and the operator's command line, acting for one organisation.
    System {
        org_id: i64,
    },
}

/// A refusal, with what was refused and why, in words.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct Denied {
    pub action: Action,
    pub message: String,
}

/// What a role may do: the rule table for users.
pub fn role_may(role: Role, action: Action) -> bool {
    use Action::*;
    match role {
        Role::Admin => true,
        Role::Marketer => !matches!(
            action,
            ApproveCampaigns
                | ManageUsers
                | ManageApiKeys
                | ManageSettings
                | ViewSystem
                | RetryJobs
                | ReadMailbox
        ),
        // Account managers work with their own contacts, and send them messages; the builder,
        // templates, imports and lists are not theirs.
        Role::Member => matches!(
            action,
            ReadContacts | WriteContacts | ReadCampaigns | SendMessages | ReadTemplates
        ),
    }
}

/// The scope an API key needs for an action; `None` for what no key may do.
pub fn scope_for(action: Action) -> Option<KeyScope> {
    use Action::*;
    match action {
        ReadContacts | ReadSegments | ReadCampaigns | ReadTemplates => Some(KeyScope::Read),
        WriteContacts | AssignContacts | ManageGroups | ManageSegments | ManageLists
        | EditCampaigns | EditTemplates => Some(KeyScope::Write),
        ActivateCampaigns | SendMessages => Some(KeyScope::Send),
        // People and settings are managed by people, imports are uploads through the UI.
        ImportContacts | ApproveCampaigns | ManageUsers | ManageApiKeys | ManageSettings
        | ViewSystem | RetryJobs | ReadMailbox => None,
    }
}

impl Actor {
    pub fn system(org_id: i64) -> Self {
        Actor::System { org_id }
    }

    /// The organisation every query on this actor's behalf is limited to.
    pub fn org_id(&self) -> i64 {
        match self {
            Actor::User(u) => u.org_id,
            Actor::ApiKey(k) => k.org_id,
            Actor::System { org_id } => *org_id,
        }
    }

    /// The user behind the request, for "created by" columns.
    pub fn user_id(&self) -> Option<i64> {
        match self {
            Actor::User(u) => Some(u.user_id),
            _ => None,
        }
    }

    pub fn user(&self) -> Option<&CurrentUser> {
        match self {
            Actor::User(u) => Some(u),
            _ => None,
        }
    }

    pub fn role(&self) -> Option<Role> {
        self.user().map(|u| u.role)
    }

    /// Set for account managers: they see and reach only the contacts assigned to them.
    pub fn assigned_to(&self) -> Option<i64> {
        match self {
            Actor::User(u) if u.role == Role::Member => Some(u.user_id),
            _ => None,
        }
    }

    pub fn may(&self, action: Action) -> bool {
        match self {
            Actor::User(u) => role_may(u.role, action),
            Actor::ApiKey(k) => scope_for(action).is_some_and(|s| k.scopes.contains(s)),
            Actor::System { .. } => true,
        }
    }

    /// `Ok` when the actor may do `action`, else the refusal in words.
    pub fn require(&self, action: Action) -> Result<(), Denied> {
        if self.may(action) {
            return Ok(());
        }
        let message = match self {
            Actor::ApiKey(_) => match scope_for(action) {
                Some(scope) => format!(
                    "This API key may not {}: it needs the “{}” scope.",
                    action.describe(),
                    scope.as_str()
                ),
                None => format!("API keys may not {}.", action.describe()),
            },
            Actor::User(u) => format!(
                "As {} you may not {}.",
                match u.role {
                    Role::Admin => "an admin",
                    Role::Marketer => "a marketer",
                    Role::Member => "an account manager",
                },
                action.describe()
            ),
            Actor::System { .. } => unreachable!("the system may do everything"),
        };
        Err(Denied { action, message })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Action::*;

    fn user(role: Role) -> Actor {
        Actor::User(CurrentUser {
            user_id: 7,
            org_id: 1,
            org_slug: "demo".into(),
            org_name: "Demo".into(),
            email: "u@demo.test".into(),
            name: "U".into(),
            role,
        })
    }

    fn key(scopes: &[KeyScope]) -> Actor {
        Actor::ApiKey(KeyActor {
            org_id: 1,
            key_id: 3,
            scopes: KeyScopes(scopes.to_vec()),
        })
    }

    /// The whole rule table: for every action, who may do it. A = admin, M = marketer,
    /// a = account manager, r/w/s = an API key with only the read, write or send scope.
    #[test]
    fn who_may_do_what() {
        let table: &[(Action, &str)] = &[
            (ReadContacts, "A M a r"),
            (WriteContacts, "A M a w"),
            (AssignContacts, "A M w"),
            (ImportContacts, "A M"),
            (ManageGroups, "A M w"),
            (ReadSegments, "A M r"),
            (ManageSegments, "A M w"),
            (ManageLists, "A M w"),
            (ReadCampaigns, "A M a r"),
            (EditCampaigns, "A M w"),
            (ActivateCampaigns, "A M s"),
            (ApproveCampaigns, "A"),
            (SendMessages, "A M a s"),
            (ReadTemplates, "A M a r"),
            (EditTemplates, "A M w"),
            (ManageUsers, "A"),
            (ManageApiKeys, "A"),
            (ManageSettings, "A"),
            (ViewSystem, "A"),
            (RetryJobs, "A"),
            (ReadMailbox, "A"),
        ];
        assert_eq!(
            table.len(),
            Action::ALL.len(),
            "every action has a row in the table"
        );
        let actors = [
            ("A", user(Role::Admin)),
            ("M", user(Role::Marketer)),
            ("a", user(Role::Member)),
            ("r", key(&[KeyScope::Read])),
            ("w", key(&[KeyScope::Write])),
            ("s", key(&[KeyScope::Send])),
        ];
        for (action, allowed) in table {
            let allowed: Vec<&str> = allowed.split(' ').collect();
            for (name, actor) in &actors {
                assert_eq!(
                    actor.may(*action),
                    allowed.contains(name),
                    "{name} × {action:?}"
                );
                assert_eq!(actor.require(*action).is_ok(), actor.may(*action));
            }
            assert!(Actor::system(1).may(*action), "the system may {action:?}");
        }
    }

    #[test]
    fn a_key_with_every_scope_may_do_what_any_scope_allows() {
        let all = key(KeyScope::ALL);
        for action in Action::ALL {
            assert_eq!(all.may(*action), scope_for(*action).is_some(), "{action:?}");
        }
    }

    #[test]
    fn refusals_say_why() {
        let e = key(&[KeyScope::Read]).require(WriteContacts).unwrap_err();
        assert_eq!(
            e.message,
            "This API key may not change contacts: it needs the “write” scope."
        );
        let e = key(KeyScope::ALL).require(ManageUsers).unwrap_err();
        assert_eq!(e.message, "API keys may not manage users.");
        let e = user(Role::Member).require(EditCampaigns).unwrap_err();
        assert_eq!(
            e.message,
            "As an account manager you may not change campaigns."
        );
    }

    #[test]
    fn account_managers_are_limited_to_their_contacts() {
        assert_eq!(user(Role::Member).assigned_to(), Some(7));
        assert_eq!(user(Role::Marketer).assigned_to(), None);
        assert_eq!(key(KeyScope::ALL).assigned_to(), None);
        assert_eq!(Actor::system(4).assigned_to(), None);
        assert_eq!(Actor::system(4).org_id(), 4);
    }

    #[test]
    fn scope_sets_parse_and_print() {
        for (text, parsed) in [
            ("read", Ok("read")),
            ("write read", Ok("read write")),
            ("read,write,send", Ok("read write send")),
            (" send , send ", Ok("send")),
            ("", Err(())),
            ("admin", Err(())),
            ("read delete", Err(())),
        ] {
            let got = KeyScopes::parse(text).map(|s| s.to_text()).map_err(|_| ());
            assert_eq!(
                got.as_deref(),
                parsed.as_deref().map_err(|_| &()),
                "{text:?}"
            );
        }
    }
}
