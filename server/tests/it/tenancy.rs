//! One organisation can neither read nor change another's data, through any server function.
//! The test fails when a server function is added without a case here.

use crate::common;
use herald_core::domain::ListKind;
use herald_core::domain::access::{Actor, KeyScopes};

use common::{campaign_with, row, spawn_app};
use herald_core::domain::Role;
use reqwest::StatusCode;
use std::collections::BTreeSet;

async fn campaign_for(app: &common::TestApp, org_slug: &str, name: &str) -> i64 {
    let org = herald_core::auth::accounts::find_org(&app.herald.db, org_slug)
        .await
        .unwrap()
        .unwrap();
    campaign_with(
        app,
        org.id,
        Some(name),
        "active",
        Some(0),
        &[row(true, false, false, 0, 0)],
    )
    .await
}

#[tokio::test]
async fn no_server_function_crosses_organisations() {
    let app = spawn_app().await;
    let alice = app.user("alpha", "alice@alpha.test", Role::Admin).await;
    app.user("bravo", "bob@bravo.test", Role::Admin).await;
    let bravo_marketer = app.user("bravo", "mia@bravo.test", Role::Marketer).await;
    let alpha_campaign = campaign_for(&app, "alpha", "Alpha news").await;
    let bravo_campaign = campaign_for(&app, "bravo", "Bravo secret plans").await;
    let bravo_user_id = {
        let bob = app.signed_in("bob@bravo.test").await;
        let users = app.call(&bob, "list_users", &[]).await.json();
        users
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["email"] == bravo_marketer)
            .unwrap()["id"]
            .as_i64()
            .unwrap()
    };
    for who in ["ann", "ben", "cy"] {
        app.contact("alpha", &format!("{who}@alpha-customer.test"), None)
            .await;
    }
    let bravo_contact = app.contact("bravo", "secret@bravo.test", None).await;
    let bravo_org = herald_core::auth::accounts::find_org(&app.herald.db, "bravo")
        .await
        .unwrap()
        .unwrap();
    let bravo_group = {
        use sea_orm::{ActiveModelTrait, Set};
        let g = herald_core::entity::contact_group::ActiveModel {
            org_id: Set(bravo_org.id),
            name: Set("Bravo VIPs".into()),
            created_at: Set(chrono::Utc::now()),
            ..Default::default()
        }
        .insert(&app.herald.db)
        .await
        .unwrap();
        herald_core::entity::contact_group_member::ActiveModel {
            group_id: Set(g.id),
            contact_id: Set(bravo_contact),
        }
        .insert(&app.herald.db)
        .await
        .unwrap();
        g.id
    };
    // Bravo's lists, segment, import and API key.
    let db = &app.herald.db;
    let bravo_list = herald_core::contacts::lists::create(
        db,
        &Actor::system(bravo_org.id),
        ListKind::Seed,
        "Bravo seeds",
    )
    .await
    .unwrap()
    .id;
    herald_core::contacts::lists::add(
        db,
        &Actor::system(bravo_org.id),
        bravo_list,
        "secret@bravo.test",
    )
    .await
    .unwrap();
    let everyone_filter = herald_core::domain::audience::Filter::everyone();
    let bravo = Actor::system(bravo_org.id);
    let bravo_segment = herald_core::audience::segments::create(
        db,
        &bravo,
        "Bravo segment",
        &everyone_filter,
        chrono::Utc::now(),
    )
    .await
    .unwrap()
    .id;
    let bravo_import = herald_core::ingest::imports::upload(
        db,
        &bravo,
        "bravo.csv",
        b"email\nsecret@bravo.test\n",
    )
    .await
    .unwrap();
    let (bravo_key, _) = herald_core::auth::api_keys::create(
        db,
        &Actor::system(bravo_org.id),
        "Bravo key",
        KeyScopes::all(),
    )
    .await
    .unwrap();
    // A failed job of Bravo's.
    let bravo_job = {
        use sea_orm::{ActiveModelTrait, Set};
        herald_core::entity::job::ActiveModel {
            kind: Set("contacts.import".into()),
            payload: Set(format!(
                r#"{{"import_id": {bravo_import}, "org_id": {}}}"#,
                bravo_org.id
            )),
            org_id: Set(Some(bravo_org.id)),
            priority: Set(0),
            state: Set(herald_core::domain::JobState::Failed),
            run_at: Set(chrono::Utc::now()),
            attempts: Set(5),
            max_attempts: Set(5),
            last_error: Set(Some("Bravo secret plans failed".into())),
            created_at: Set(chrono::Utc::now()),
            ..Default::default()
        }
        .insert(db)
        .await
        .unwrap()
        .id
        .to_string()
    };
    let (bravo_list, bravo_segment, bravo_import, bravo_key_id, bravo_group_s, bravo_contact_s) = (
        bravo_list.to_string(),
        bravo_segment.to_string(),
        bravo_import.to_string(),
        bravo_key.id.to_string(),
        bravo_group.to_string(),
        bravo_contact.to_string(),
    );

    let client = app.signed_in(&alice).await;
    let (bravo_campaign, bravo_user) = (bravo_campaign.to_string(), bravo_user_id.to_string());
    let mut covered = BTreeSet::new();
    let mut check = async |name: &'static str, args: &[(&str, &str)], expect: StatusCode| {
        covered.insert(format!("/api/{name}"));
        let r = app.call(&client, name, args).await;
        assert_eq!(r.status, expect, "{name}: {}", r.body);
        for secret in [
            "Bravo secret plans",
            "bravo.test",
            "Bravo VIPs",
            "Bravo seeds",
            "Bravo segment",
            "bravo.csv",
            "Bravo key",
        ] {
            assert!(!r.body.contains(secret), "{name} leaked: {}", r.body);
        }
        r
    };

    // Reads return only Alpha's data.
    let list = check("list_campaigns", &[], StatusCode::OK).await.json();
    let ids: Vec<i64> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, vec![alpha_campaign]);
    check("list_campaigns", &[("status", "active")], StatusCode::OK).await;
    check(
        "get_campaign",
        &[("id", &bravo_campaign)],
        StatusCode::NOT_FOUND,
    )
    .await;
    check(
        "campaign_report",
        &[("id", &bravo_campaign)],
        StatusCode::NOT_FOUND,
    )
    .await;
    check(
        "campaign_recipients",
        &[("id", &bravo_campaign), ("query[page]", "1")],
        StatusCode::NOT_FOUND,
    )
    .await;
    let overview = check("reports_overview", &[], StatusCode::OK).await.json();
    assert!(
        !overview.to_string().contains("Bravo secret plans"),
        "{overview}"
    );
    let contacts = check("list_contacts", &[], StatusCode::OK).await.json();
    assert_eq!(contacts["total"], 3);
    let secret = check("list_contacts", &[("search", "secret")], StatusCode::OK)
        .await
        .json();
    assert_eq!(secret["total"], 0);
    let users = check("list_users", &[], StatusCode::OK).await.json();
    assert_eq!(users.as_array().unwrap().len(), 1);
    check("me", &[], StatusCode::OK).await;

    // Audiences count only Alpha's contacts, even through Bravo's group.
    let everyone = app
        .call_json(
            &client,
            "count_audience",
            serde_json::json!({"filter": {"filter": "all", "of": []}}),
        )
        .await;
    assert_eq!(everyone.status, StatusCode::OK, "{}", everyone.body);
    assert_eq!(everyone.json()["count"], 3);
    assert!(!everyone.body.contains("bravo.test"), "{}", everyone.body);
    let through_group = app
        .call_json(
            &client,
            "count_audience",
            serde_json::json!({"filter": {"filter": "in_group", "group_id": bravo_group}}),
        )
        .await;
    assert_eq!(through_group.json()["count"], 0, "{}", through_group.body);

    // Writes aimed at Bravo's rows find nothing to change.
    check(
        "set_user_role",
        &[("user_id", &bravo_user), ("role", "member")],
        StatusCode::NOT_FOUND,
    )
    .await;
    check(
        "remove_user",
        &[("user_id", &bravo_user)],
        StatusCode::NOT_FOUND,
    )
    .await;
    // Adding a user puts them in the caller's organisation, whatever the address.
    check(
        "add_user",
        &[
            ("email", "new@alpha.test"),
            ("name", ""),
            ("role", "member"),
            ("password", ""),
        ],
        StatusCode::OK,
    )
    .await;
    check(
        "change_password",
        &[
            ("current", "wrong-password"),
            ("new", "x-new-password"),
            ("confirm", "x-new-password"),
        ],
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    check(
        "login",
        &[
            ("email", "nobody@alpha.test"),
            ("password", "wrong-password"),
        ],
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    // Contacts, groups, segments, lists, imports and API keys.
    check(
        "get_contact",
        &[("id", &bravo_contact_s)],
        StatusCode::NOT_FOUND,
    )
    .await;
    let groups = check("list_groups", &[], StatusCode::OK).await.json();
    assert_eq!(groups, serde_json::json!([]));
    let alpha_group = check("create_group", &[("name", "Alpha VIPs")], StatusCode::OK)
        .await
        .json()
        .as_i64()
        .unwrap()
        .to_string();
    check(
        "delete_group",
        &[("id", &bravo_group_s)],
        StatusCode::NOT_FOUND,
    )
    .await;
    check(
        "add_to_group",
        &[
            ("group_id", &bravo_group_s),
            ("contact_id", &bravo_contact_s),
        ],
        StatusCode::NOT_FOUND,
    )
    .await;
    let joined = check(
        "add_to_group",
        &[("group_id", &alpha_group), ("contact_id", &bravo_contact_s)],
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        joined.json(),
        0,
        "Bravo's contact must not join Alpha's group"
    );
    // Account managers: Bravo's are not listed, Bravo's contacts are not assigned, Bravo's users
    // cannot be given Alpha's contacts.
    let managers = check("list_account_managers", &[], StatusCode::OK).await;
    assert!(managers.body.contains("alpha.test") && !managers.body.contains("bravo"));
    let assigned = check(
        "assign_contacts",
        &[("ids[0]", &bravo_contact_s), ("manager", "")],
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        assigned.json(),
        0,
        "Bravo's contact is not Alpha's to assign"
    );
    check(
        "assign_contacts",
        &[("ids[0]", &bravo_contact_s), ("manager", &bravo_user)],
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    check("list_segments", &[], StatusCode::OK).await;
    check("create_segment", &[("name", "Alpha all")], StatusCode::OK).await;
    check(
        "delete_segment",
        &[("id", &bravo_segment)],
        StatusCode::NOT_FOUND,
    )
    .await;
    let lists = check("list_lists", &[], StatusCode::OK).await.json();
    assert_eq!(
        lists.as_array().unwrap().len(),
        1,
        "only Alpha's global list: {lists}"
    );
    check(
        "create_list",
        &[("kind", "suppression"), ("name", "Alpha bounces")],
        StatusCode::OK,
    )
    .await;
    check("delete_list", &[("id", &bravo_list)], StatusCode::NOT_FOUND).await;
    check(
        "list_entries",
        &[("id", &bravo_list)],
        StatusCode::NOT_FOUND,
    )
    .await;
    check(
        "add_to_list",
        &[("id", &bravo_list), ("addresses", "x@example.org")],
        StatusCode::NOT_FOUND,
    )
    .await;
    check(
        "remove_from_list",
        &[("id", &bravo_list), ("email", "secret@bravo.test")],
        StatusCode::NOT_FOUND,
    )
    .await;
    check(
        "get_import",
        &[("id", &bravo_import)],
        StatusCode::NOT_FOUND,
    )
    .await;
    let imports = check("recent_imports", &[], StatusCode::OK).await.json();
    assert_eq!(imports, serde_json::json!([]));
    let keys = check("list_api_keys", &[], StatusCode::OK).await.json();
    assert_eq!(keys, serde_json::json!([]));
    check(
        "create_api_key",
        &[("name", "Alpha CRM"), ("read", "on"), ("write", "on")],
        StatusCode::OK,
    )
    .await;
    check(
        "revoke_api_key",
        &[("id", &bravo_key_id)],
        StatusCode::NOT_FOUND,
    )
    .await;
    // A hand-picked selection of Bravo's contact reaches no one.
    let picked = app
        .call_json(
            &client,
            "selection_audience",
            serde_json::json!({"filter": {"search": "secret", "group_id": null, "active": null, "consent": null}, "ids": [bravo_contact], "all": false}),
        )
        .await;
    assert_eq!(picked.status, StatusCode::OK, "{}", picked.body);
    assert_eq!(picked.json()[1]["count"], 0, "{}", picked.body);
    let matching = app
        .call_json(
            &client,
            "selection_audience",
            serde_json::json!({"filter": {"search": "secret", "group_id": null, "active": null, "consent": null}, "ids": [], "all": true}),
        )
        .await;
    assert_eq!(
        matching.json()[0],
        serde_json::json!({"filter": "contacts", "ids": []})
    );

    // Templates and the builder.
    let content =
        serde_json::json!({"subject": "Hi", "preheader": "", "html": "<p>Hi</p>", "text": "Hi"});
    let template_input = serde_json::json!({"name": "Alpha t", "kind": "", "description": "", "language": "en", "content": content, "variants": {}});
    let bravo_template = herald_core::templates::save(
        db,
        &Actor::system(bravo_org.id),
        None,
        &serde_json::from_value(serde_json::json!({"name": "Bravo secret plans mail", "kind": "", "description": "", "language": "en", "content": content, "variants": {}})).unwrap(),
    )
    .await
    .unwrap()
    .id;
    let bravo_template_s = bravo_template.to_string();
    let templates = check("list_templates", &[], StatusCode::OK).await.json();
    assert_eq!(templates, serde_json::json!([]));
    check(
        "template_editor",
        &[("id", &bravo_template_s)],
        StatusCode::NOT_FOUND,
    )
    .await;
    check("template_editor", &[], StatusCode::OK).await;
    let json_cases = [
        (
            "save_template",
            serde_json::json!({"id": bravo_template, "input": template_input}),
            StatusCode::NOT_FOUND,
        ),
        (
            "check_template",
            serde_json::json!({"input": template_input}),
            StatusCode::OK,
        ),
        (
            "preview_template",
            serde_json::json!({"content": content, "contact_id": bravo_contact, "record": null}),
            StatusCode::NOT_FOUND,
        ),
    ];
    let draft = |template: Option<i64>| {
        let mut d = serde_json::to_value(herald_core::domain::campaign::Draft::default()).unwrap();
        d["template_id"] = serde_json::json!(template);
        d
    };
    let builder_cases = [
        (
            "save_campaign",
            serde_json::json!({"id": bravo_campaign.parse::<i64>().unwrap(), "draft": draft(None)}),
            StatusCode::NOT_FOUND,
        ),
        (
            "save_campaign",
            serde_json::json!({"id": null, "draft": draft(Some(bravo_template))}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "open_builder",
            serde_json::json!({"id": bravo_campaign.parse::<i64>().unwrap(), "selection": null}),
            StatusCode::NOT_FOUND,
        ),
        (
            "open_builder",
            serde_json::json!({"id": null, "selection": [{"search": "", "group_id": null, "active": null, "consent": null}, [bravo_contact], false]}),
            StatusCode::OK,
        ),
        (
            "campaign_conflicts",
            serde_json::json!({"id": null, "draft": draft(None)}),
            StatusCode::OK,
        ),
        // Messages: a mailing list counts Alpha's contacts only, even through Bravo's group.
        (
            "open_mailing",
            serde_json::json!({"query": {"list": "group", "group_id": bravo_group}}),
            StatusCode::OK,
        ),
        // Send now: Bravo's contact is not in Alpha's selection.
        (
            "open_send_now",
            serde_json::json!({"filter": {"search": "", "group_id": null, "active": null, "consent": null}, "ids": [bravo_contact], "all": false}),
            StatusCode::OK,
        ),
    ];
    let mut json_covered = Vec::new();
    for (name, body, expect) in json_cases.into_iter().chain(builder_cases) {
        let r = app.call_json(&client, name, body).await;
        assert_eq!(r.status, expect, "{name}: {}", r.body);
        assert!(
            !r.body.contains("Bravo secret"),
            "{name} leaked: {}",
            r.body
        );
        json_covered.push(name);
    }
    check("builder_options", &[], StatusCode::OK).await;
    for name in [
        "campaign_problems",
        "activate_campaign",
        "deactivate_campaign",
        "approve_campaign",
        "discard_pending",
    ] {
        check(name, &[("id", &bravo_campaign)], StatusCode::NOT_FOUND).await;
    }
    check("set_require_approval", &[("on", "on")], StatusCode::OK).await;
    assert!(
        !herald_core::campaigns::builder::requires_approval(db, &Actor::system(bravo_org.id))
            .await
            .unwrap()
    );
    // Alpha's admin sets Alpha's time zone; Bravo's stays.
    check(
        "set_time_zone",
        &[("time_zone", "Asia/Tokyo")],
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        herald_core::auth::accounts::time_zone(db, &Actor::system(bravo_org.id))
            .await
            .unwrap(),
        "UTC"
    );

    // Sending on the System page: Alpha's own numbers only.
    check("sending_status", &[], StatusCode::OK).await;
    // Settings → Sending changes Alpha's settings only.
    check("sending_settings", &[], StatusCode::OK).await;
    check(
        "set_sending",
        &[
            ("form[email_provider]", "mailbox"),
            ("form[sms_provider]", "none"),
        ],
        StatusCode::OK,
    )
    .await;
    check(
        "add_sender_identity",
        &[("name", "Alpha news"), ("email", "news@alpha.test")],
        StatusCode::OK,
    )
    .await;
    check(
        "add_sending_domain",
        &[("domain", "alpha.test")],
        StatusCode::OK,
    )
    .await;
    let answer = check("check_provider", &[("channel", "email")], StatusCode::OK).await;
    assert!(
        answer
            .body
            .contains("The development mailbox took the message"),
        "{}",
        answer.body
    );
    check(
        "check_provider",
        &[("channel", "sms"), ("phone", "+44 20 7946 0958")],
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    let bravo_sending =
        herald_core::delivery::sending::overview(&app.herald, &Actor::system(bravo_org.id))
            .await
            .unwrap();
    assert!(bravo_sending.identities.is_empty() && bravo_sending.domains.is_empty());
    assert_eq!(
        bravo_sending.email_provider,
        herald_core::domain::sending::EmailProvider::Instance
    );
    // Alpha's admin checks Alpha's sending domain, not Bravo's (which keeps no result).
    let alpha_org = herald_core::auth::accounts::find_org(db, "alpha")
        .await
        .unwrap()
        .unwrap();
    let alpha_domain =
        herald_core::delivery::sending::overview(&app.herald, &Actor::system(alpha_org.id))
            .await
            .unwrap()
            .domains[0]
            .id;
    check(
        "check_sending_domain",
        &[("id", &alpha_domain.to_string())],
        StatusCode::OK,
    )
    .await;
    herald_core::delivery::sending::add_domain(
        db,
        &app.herald.settings.secret_key,
        &Actor::system(bravo_org.id),
        "bravo.test",
        "herald",
        chrono::Utc::now(),
    )
    .await
    .unwrap();
    let bravo_domain =
        herald_core::delivery::sending::overview(&app.herald, &Actor::system(bravo_org.id))
            .await
            .unwrap()
            .domains[0]
            .clone();
    check(
        "check_sending_domain",
        &[("id", &bravo_domain.id.to_string())],
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_eq!(bravo_domain.check, None);

    // The System page: Alpha's admin sees no job of Bravo's and cannot retry one.
    check("system_status", &[], StatusCode::OK).await;
    check("retry_job", &[("id", &bravo_job)], StatusCode::NOT_FOUND).await;

    // Send now to Bravo's contact: there is no one to send to, and nothing is created.
    let to_bravo = serde_json::json!({"filter": "contacts", "ids": [bravo_contact]}).to_string();
    let refused = check(
        "send_now",
        &[
            ("name", "Bravo secret plans"),
            ("channel", "email"),
            ("message_type", "operational"),
            ("audience", &to_bravo),
            ("template", "quick"),
            ("subject", "Hi"),
            ("body", "Hello"),
        ],
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(
        refused.body.contains("no one to send to"),
        "{}",
        refused.body
    );

    // The development mailbox: Bravo's messages are not Alpha's to list or open.
    let bravo_mail = {
        use sea_orm::{ActiveModelTrait, Set};
        herald_core::entity::mailbox_message::ActiveModel {
            org_id: Set(bravo_org.id),
            message_id: Set(None),
            sender: Set("news@bravo.test".into()),
            recipient: Set("secret@bravo.test".into()),
            subject: Set("Bravo secret plans".into()),
            raw: Set("Subject: Bravo secret plans\r\n\r\nBravo secret plans".into()),
            created_at: Set(chrono::Utc::now()),
            ..Default::default()
        }
        .insert(db)
        .await
        .unwrap()
        .id
        .to_string()
    };
    // Alpha's mailbox holds the provider test sent to Alice above, and nothing of Bravo's.
    let mailbox = check("mailbox_list", &[], StatusCode::OK).await.json();
    assert_eq!(mailbox["total"], 1);
    assert_eq!(mailbox["items"][0]["recipient"], "alice@alpha.test");
    check("mailbox_list", &[("search", "secret")], StatusCode::OK).await;
    check(
        "mailbox_message",
        &[("id", &bravo_mail)],
        StatusCode::NOT_FOUND,
    )
    .await;
    // Actions: Bravo's to-do is not Alpha's to see, send, ignore or fix.
    let bravo_action = {
        use sea_orm::{ActiveModelTrait, Set};
        herald_core::entity::action::ActiveModel {
            org_id: Set(bravo_org.id),
            campaign_id: Set(bravo_campaign.parse().unwrap()),
            message_id: Set(Some(999_999)),
            contact_id: Set(bravo_contact),
            channel: Set(herald_core::domain::Channel::Email),
            reason: Set("Bravo secret plans bounced".into()),
            owner_id: Set(None),
            state: Set(herald_core::domain::ActionState::Todo),
            created_at: Set(chrono::Utc::now()),
            ..Default::default()
        }
        .insert(db)
        .await
        .unwrap()
        .id
        .to_string()
    };
    let actions = check("list_actions", &[("state", "all")], StatusCode::OK)
        .await
        .json();
    assert_eq!(actions["total"], 0);
    for how in ["send", "ignore"] {
        let r = check(
            "resolve_actions",
            &[("ids[3]", &bravo_action), ("how", how)],
            StatusCode::OK,
        )
        .await;
        assert!(r.body.contains("Nothing to do"), "{}", r.body);
    }
    check(
        "fix_action",
        &[("id", &bravo_action), ("address", "new@alpha.test")],
        StatusCode::NOT_FOUND,
    )
    .await;
    use sea_orm::EntityTrait;
    let untouched =
        herald_core::entity::action::Entity::find_by_id(bravo_action.parse::<i64>().unwrap())
            .one(db)
            .await
            .unwrap()
            .unwrap();
    assert_eq!(untouched.state, herald_core::domain::ActionState::Todo);

    // Test sends: Bravo's campaign, template and seed list are not Alpha's to test with.
    check(
        "send_test",
        &[("of", "campaign"), ("id", &bravo_campaign), ("to", "me")],
        StatusCode::NOT_FOUND,
    )
    .await;
    check(
        "send_test",
        &[
            ("of", "template"),
            ("id", &bravo_template.to_string()),
            ("to", "me"),
        ],
        StatusCode::NOT_FOUND,
    )
    .await;
    check(
        "send_test",
        &[
            ("of", "campaign"),
            ("id", &alpha_campaign.to_string()),
            ("to", &bravo_list),
        ],
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;

    check("shell_status", &[], StatusCode::OK).await;
    check("notifications", &[], StatusCode::OK).await;
    check("mark_notifications_read", &[], StatusCode::OK).await;

    check("logout", &[], StatusCode::OK).await;

    // Bravo's things are untouched.
    let bravo_list_id: i64 = bravo_list.parse().unwrap();
    assert_eq!(
        herald_core::contacts::lists::entries(db, &Actor::system(bravo_org.id), bravo_list_id)
            .await
            .unwrap()
            .len(),
        1
    );
    assert!(
        herald_core::audience::segments::summary(
            db,
            &Actor::system(bravo_org.id),
            bravo_segment.parse().unwrap(),
            chrono::Utc::now()
        )
        .await
        .is_ok()
    );
    let keys = herald_core::auth::api_keys::list(db, &Actor::system(bravo_org.id))
        .await
        .unwrap();
    assert!(keys[0].revoked_at.is_none());
    assert_eq!(
        herald_core::contacts::groups::list(db, &Actor::system(bravo_org.id))
            .await
            .unwrap()[0]
            .members,
        1
    );

    let bob = app.signed_in("bob@bravo.test").await;
    let bravo_users = app.call(&bob, "list_users", &[]).await.json();
    let emails: BTreeSet<&str> = bravo_users
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["email"].as_str().unwrap())
        .collect();
    assert_eq!(
        emails,
        BTreeSet::from(["bob@bravo.test", "mia@bravo.test"]),
        "Bravo's users are untouched"
    );
    let mia = &bravo_users
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["email"] == "mia@bravo.test")
        .unwrap()["role"];
    assert_eq!(mia, "marketer");

    covered.insert("/api/count_audience".to_owned()); // checked above with JSON input
    covered.insert("/api/selection_audience".to_owned());
    covered.extend(json_covered.iter().map(|n| format!("/api/{n}")));
    let registered: BTreeSet<String> = leptos::server_fn::axum::server_fn_paths()
        .map(|(path, _)| path.to_owned())
        .collect();
    assert_eq!(
        covered, registered,
        "every server function needs a cross-organisation case here"
    );
}

#[tokio::test]
async fn only_admins_manage_users() {
    let app = spawn_app().await;
    app.user("alpha", "alice@alpha.test", Role::Admin).await;
    let mark = app.user("alpha", "mark@alpha.test", Role::Marketer).await;
    let client = app.signed_in(&mark).await;
    for (name, args) in [
        ("list_users", vec![]),
        (
            "add_user",
            vec![
                ("email", "x@alpha.test"),
                ("name", ""),
                ("role", "admin"),
                ("password", ""),
            ],
        ),
        ("set_user_role", vec![("user_id", "1"), ("role", "admin")]),
        ("remove_user", vec![("user_id", "1")]),
    ] {
        let r = app.call(&client, name, &args).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{name}: {}", r.body);
        assert_eq!(
            r.json(),
            serde_json::json!({"Forbidden": "As a marketer you may not manage users."}),
            "the refusal says why"
        );
    }
}

#[tokio::test]
async fn account_managers_count_only_their_contacts() {
    let app = spawn_app().await;
    app.user("alpha", "alice@alpha.test", Role::Admin).await;
    let maria = app.user("alpha", "maria@alpha.test", Role::Member).await;
    let maria_id = {
        let admin = app.signed_in("alice@alpha.test").await;
        let users = app.call(&admin, "list_users", &[]).await.json();
        users
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["email"] == maria)
            .unwrap()["id"]
            .as_i64()
            .unwrap()
    };
    let mine = app
        .contact("alpha", "mine@customer.test", Some(maria_id))
        .await;
    app.contact("alpha", "theirs@customer.test", None).await;
    let everyone = serde_json::json!({"filter": {"filter": "all", "of": []}});

    let admin = app.signed_in("alice@alpha.test").await;
    assert_eq!(
        app.call_json(&admin, "count_audience", everyone.clone())
            .await
            .json()["count"],
        2
    );
    let member = app.signed_in(&maria).await;
    let r = app
        .call_json(&member, "count_audience", everyone)
        .await
        .json();
    assert_eq!(r["count"], 1);
    assert_eq!(r["sample"][0]["id"], mine);
    assert_eq!(r["sample"][0]["email"], "mine@customer.test");
}

#[tokio::test]
async fn malformed_audiences_are_refused_with_a_reason() {
    let app = spawn_app().await;
    let alice = app.user("alpha", "alice@alpha.test", Role::Admin).await;
    let client = app.signed_in(&alice).await;
    let r = app
        .call_json(
            &client,
            "count_audience",
            serde_json::json!({"filter": {"filter": "everything"}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(
        r.json()["Invalid"]
            .as_str()
            .unwrap()
            .contains("unknown filter `everything`"),
        "{}",
        r.body
    );
    let mut deep = serde_json::json!({"filter": "active_contact"});
    for _ in 0..20 {
        deep = serde_json::json!({"filter": "not", "not": deep});
    }
    let r = app
        .call_json(
            &client,
            "count_audience",
            serde_json::json!({"filter": deep}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        r.json()["Invalid"],
        "The audience is nested too deeply (at most 12 levels)."
    );
}
