//! The template editor: tag inserter at the cursor, live check, sandboxed live preview,
//! language variants and versions.

use crate::api::templates::{
    Preview, TemplateEditor, check_template, get_template_editor, preview_template, save_template,
};
use crate::components::{ErrorNote, NeedsJavaScript, debounce, replace_url};
use herald_core::domain::template::{Content, Issue, Part, Tag, TemplateInput};
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;
use std::collections::BTreeMap;
#[component]
pub fn TemplateEditorPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").and_then(|i| i.parse::<i64>().ok());
    let data = Resource::new(id, get_template_editor);
    view! {
        <p class="crumbs"><a href="/templates">"← Templates"</a></p>
        <NeedsJavaScript what="The template editor" />
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(e) => view! { <Title text="Template" /><ErrorNote error=e /> }.into_any(),
                    // Rendered in the browser only (it is all interaction), from a part of the
                    // bundle of its own, loaded when the editor opens.
                    Ok(editor) => {
                        let mounted = RwSignal::new(false);
                        Effect::new(move |_| mounted.set(true));
                        let id = id();
                        (move || mounted.get().then(|| {
                            let editor = editor.clone();
                            view! {
                                <Suspense fallback=|| view! { <p class="loading">"Loading the editor…"</p> }>
                                    {Suspend::new(async move { editor_view(id, editor).await })}
                                </Suspense>
                            }
                        })).into_any()
                    }
                }
            })}
        </Transition>
    }
}

/// The editor's view, in a part of the bundle loaded only when an editor opens.
#[lazy]
async fn editor_view(id: Option<i64>, editor: TemplateEditor) -> AnyView {
    view! { <Editor id editor /> }.into_any()
}

/// Byte offset of a UTF-16 offset (what the browser's selection reports) in `s`.
fn byte_offset(s: &str, utf16: u32) -> usize {
    let mut units = 0u32;
    for (i, c) in s.char_indices() {
        if units >= utf16 {
            return i;
        }
        units += c.len_utf16() as u32;
    }
    s.len()
}

#[component]
fn Editor(id: Option<i64>, editor: TemplateEditor) -> impl IntoView {
    let id = RwSignal::new(id);
    let (input, summary) = match editor.template {
        Some((i, s)) => (i, Some(s)),
        None => (
            TemplateInput {
                language: "en".into(),
                ..TemplateInput::default()
            },
            None,
        ),
    };
    let title = summary
        .as_ref()
        .map_or("New template".to_string(), |s| s.name.clone());
    let version = RwSignal::new(summary.as_ref().map(|s| s.version));
    let name = RwSignal::new(input.name.clone());
    let kind = RwSignal::new(input.kind.clone());
    let description = RwSignal::new(input.description.clone());
    let language = RwSignal::new(input.language.clone());
    // The content being edited: the default language's, or a variant's.
    let default_content = RwSignal::new(input.content.clone());
    let variants = RwSignal::new(input.variants.clone());
    let editing: RwSignal<Option<String>> = RwSignal::new(None);
    let subject = RwSignal::new(input.content.subject.clone());
    let preheader = RwSignal::new(input.content.preheader.clone());
    let html = RwSignal::new(input.content.html.clone());
    let text = RwSignal::new(input.content.text.clone());
    let current = move || Content {
        subject: subject.get(),
        preheader: preheader.get(),
        html: html.get(),
        text: text.get(),
    };
    // Writes the fields back to the default or the variant they belong to.
    let stash = move || {
        let c = current();
        match editing.get_untracked() {
            None => default_content.set(c),
            Some(lang) => variants.update(|v| {
                v.insert(lang, c);
            }),
        }
    };
    let load = move |c: Content| {
        subject.set(c.subject);
        preheader.set(c.preheader);
        html.set(c.html);
        text.set(c.text);
    };
    let whole = move || {
        let mut v: BTreeMap<String, Content> = variants.get();
        let mut content = default_content.get();
        match editing.get() {
            None => content = current(),
            Some(lang) => {
                v.insert(lang, current());
            }
        }
        TemplateInput {
            name: name.get(),
            kind: kind.get(),
            description: description.get(),
            language: language.get(),
            content,
            variants: v,
        }
    };

    // Tag insertion at the cursor of the field last focused.
    let focused = RwSignal::new(Part::Html);
    let subject_ref = NodeRef::<leptos::html::Input>::new();
    let preheader_ref = NodeRef::<leptos::html::Input>::new();
    let html_ref = NodeRef::<leptos::html::Textarea>::new();
    let text_ref = NodeRef::<leptos::html::Textarea>::new();
    let insert = move |tag: String| {
        let snippet = format!("{{{{ {tag} }}}}");
        let (signal, selection) = match focused.get_untracked() {
            Part::Subject => (
                subject,
                subject_ref
                    .get()
                    .and_then(|e| e.selection_start().ok().flatten()),
            ),
            Part::Preheader => (
                preheader,
                preheader_ref
                    .get()
                    .and_then(|e| e.selection_start().ok().flatten()),
            ),
            Part::Html => (
                html,
                html_ref
                    .get()
                    .and_then(|e| e.selection_start().ok().flatten()),
            ),
            Part::Text => (
                text,
                text_ref
                    .get()
                    .and_then(|e| e.selection_start().ok().flatten()),
            ),
        };
        signal.update(|s| {
            let at = selection.map_or(s.len(), |u| byte_offset(s, u));
            s.insert_str(at, &snippet);
        });
    };

    // Live check and preview, debounced.
    let issues: RwSignal<Vec<Issue>> = RwSignal::new(Vec::new());
    debounce(whole, 350, move |input: TemplateInput| {
        spawn_local(async move {
            if let Ok(found) = check_template(input).await {
                issues.set(found);
            }
        });
    });
    let preview_contact: RwSignal<Option<i64>> =
        RwSignal::new(editor.contacts.first().map(|c| c.id));
    let preview_record = RwSignal::new("credential".to_string());
    let preview = RwSignal::new(Preview::default());
    debounce(
        move || (current(), preview_contact.get(), preview_record.get()),
        350,
        move |(content, contact, record)| {
            spawn_local(async move {
                match preview_template(content, contact, Some(record)).await {
                    Ok(p) => preview.set(p),
                    Err(e) => preview.set(Preview {
                        error: Some(e.to_string()),
                        ..Preview::default()
                    }),
                }
            });
        },
    );

    let saving = RwSignal::new(false);
    let outcome: RwSignal<Option<Result<String, String>>> = RwSignal::new(None);
    let save = move |_| {
        let input = whole();
        saving.set(true);
        spawn_local(async move {
            match save_template(id.get_untracked(), input).await {
                Ok(saved) => {
                    version.set(Some(saved.version));
                    issues.set(saved.warnings.clone());
                    let note = if saved.warnings.is_empty() {
                        format!("Saved: version {}.", saved.version)
                    } else {
                        format!(
                            "Saved as version {}, with unknown tags to fix before a campaign can send it.",
                            saved.version
                        )
                    };
                    outcome.set(Some(Ok(note)));
                    if id.get_untracked().is_none() {
                        id.set(Some(saved.id));
                        replace_url(&format!("/templates/{}", saved.id));
                    }
                }
                Err(e) => outcome.set(Some(Err(e.to_string()))),
            }
            saving.set(false);
        });
    };

    let groups = group_tags(editor.tags);
    let contacts = editor.contacts;
    view! {
        <Title text=title.clone() />
        <div class="page-head">
            <h1>{title}</h1>
            {move || version.get().map(|v| view! { <span class="badge">{format!("Version {v}")}</span> })}
        </div>
        <div class="editor">
            <section class="card editor-form">
                <div class="grid2">
                    <label>"Name"<input prop:value=name on:input=move |e| name.set(event_target_value(&e)) required maxlength="200" /></label>
                    <label>"Type"<input prop:value=kind on:input=move |e| kind.set(event_target_value(&e)) placeholder="renewal, newsletter…" /></label>
                    <label>"Language"<input prop:value=language on:input=move |e| language.set(event_target_value(&e)) maxlength="12" /></label>
                    <label>"Description"<input prop:value=description on:input=move |e| description.set(event_target_value(&e)) /></label>
                </div>
                <div class="variants" role="group" aria-label="Language variants">
                    <span class="muted">"Editing: "</span>
                    <button type="button" class="small" aria-pressed=move || editing.get().is_none().to_string()
                        on:click=move |_| { stash(); editing.set(None); load(default_content.get_untracked()); }>
                        {move || format!("{} (default)", language.get())}
                    </button>
                    {move || variants.get().into_keys().map(|lang| {
                        let l2 = lang.clone();
                        let l3 = lang.clone();
                        view! {
                            <button type="button" class="small" aria-pressed=move || (editing.get().as_deref() == Some(l2.as_str())).to_string()
                                on:click=move |_| { stash(); editing.set(Some(l3.clone())); load(variants.get_untracked().get(&l3).cloned().unwrap_or_default()); }>
                                {lang}
                            </button>
                        }
                    }).collect_view()}
                    <AddVariant on_add=move |lang: String| {
                        stash();
                        let base = default_content.get_untracked();
                        variants.update(|v| { v.entry(lang.clone()).or_insert(base); });
                        editing.set(Some(lang.clone()));
                        load(variants.get_untracked().get(&lang).cloned().unwrap_or_default());
                    } />
                </div>
                <label for="t-subject">"Subject"</label>
                <input id="t-subject" node_ref=subject_ref prop:value=subject on:input=move |e| subject.set(event_target_value(&e)) on:focus=move |_| focused.set(Part::Subject) />
                <label for="t-preheader">"Preheader " <span class="muted">"(the line inboxes show after the subject)"</span></label>
                <input id="t-preheader" node_ref=preheader_ref prop:value=preheader on:input=move |e| preheader.set(event_target_value(&e)) on:focus=move |_| focused.set(Part::Preheader) />
                <label for="t-html">"HTML body"</label>
                <textarea id="t-html" rows="12" class="code" node_ref=html_ref prop:value=html on:input=move |e| html.set(event_target_value(&e)) on:focus=move |_| focused.set(Part::Html)>{html.get_untracked()}</textarea>
                <label for="t-text">"Text body"</label>
                <textarea id="t-text" rows="6" class="code" node_ref=text_ref prop:value=text on:input=move |e| text.set(event_target_value(&e)) on:focus=move |_| focused.set(Part::Text)>{text.get_untracked()}</textarea>
                <p class="muted" data-testid="sms-length">{move || {
                    let n = herald_core::domain::template::sms_length(&text.get());
                    format!(
                        "As a text message (SMS campaigns send the text body): {} characters, {} segment{}, {} (before tags are filled in).",
                        n.characters,
                        n.segments,
                        if n.segments == 1 { "" } else { "s" },
                        if n.unicode { "Unicode: 70 characters a segment, 67 when split" } else { "GSM 7-bit: 160 characters a segment, 153 when split" }
                    )
                }}</p>
                <div role="status" aria-live="polite" data-testid="template-issues">
                    {move || {
                        let list = issues.get();
                        (!list.is_empty()).then(|| view! {
                            <ul class="issues">
                                {list.into_iter().map(|i| {
                                    let class = if i.blocks_saving() { "error" } else { "warning" };
                                    view! { <li class=class>{i.describe()}</li> }
                                }).collect_view()}
                            </ul>
                        })
                    }}
                </div>
                <div class="actions-bar">
                    <button type="button" class="primary" on:click=save disabled=move || saving.get() || issues.get().iter().any(Issue::blocks_saving)>
                        {move || if saving.get() { "Saving…" } else { "Save template" }}
                    </button>
                </div>
                {move || outcome.get().map(|o| match o {
                    Ok(note) => view! { <p class="notice" role="status" data-testid="template-saved">{note}</p> }.into_any(),
                    Err(e) => view! { <p class="error" role="alert">{e}</p> }.into_any(),
                })}
                {move || id.get().map(|id| view! { <crate::components::TestSendForm of="template" id /> })}
            </section>
            <aside class="card tags" aria-label="Personalisation tags">
                <h2>"Insert a tag"</h2>
                <p class="muted">"Inserted where the cursor is, in the field you were last in."</p>
                {groups.into_iter().map(|(group, tags)| view! {
                    <h3>{group}</h3>
                    <ul class="tag-list">
                        {tags.into_iter().map(|t| {
                            let path = t.path.clone();
                            view! { <li><button type="button" class="small tag" title=format!("{{{{ {} }}}}", t.path) on:click=move |_| insert(path.clone())>{t.label}</button></li> }
                        }).collect_view()}
                    </ul>
                }).collect_view()}
            </aside>
        </div>
        <section class="card preview" aria-label="Preview">
            <h2>"Preview"</h2>
            <div class="grid2">
                <label>"Contact"
                    <select on:change=move |e| preview_contact.set(event_target_value(&e).parse().ok())>
                        {contacts.into_iter().map(|c| view! { <option value=c.id.to_string()>{format!("{} {}", c.name, c.email.unwrap_or_default())}</option> }).collect_view()}
                        <option value="">"Example contact"</option>
                    </select>
                </label>
                <label>"Record that fires the trigger"
                    <select on:change=move |e| preview_record.set(event_target_value(&e))>
                        {["credential", "enrollment", "booking", "pass", "subscription", "order"].into_iter().map(|r| view! { <option value=r>{r}</option> }).collect_view()}
                    </select>
                </label>
            </div>
            {move || {
                let p = preview.get();
                match p.error {
                    Some(e) => view! { <p class="error" role="alert" data-testid="preview-error">{e}</p> }.into_any(),
                    None => view! {
                        <div class="inbox-line" data-testid="preview-subject"><strong>{p.subject}</strong> " — " <span class="muted">{p.preheader}</span></div>
                        // The HTML as a mail client shows it: in a frame with no scripts, forms or
                        // access to Herald's page.
                        <iframe title="HTML preview" sandbox="" srcdoc=p.html class="preview-frame"></iframe>
                        <pre class="preview-text" role="figure" aria-label="Text preview">{p.text}</pre>
                    }.into_any(),
                }
            }}
        </section>
    }
}

fn group_tags(tags: Vec<Tag>) -> Vec<(String, Vec<Tag>)> {
    let mut out: Vec<(String, Vec<Tag>)> = Vec::new();
    for t in tags {
        match out.iter_mut().find(|(g, _)| *g == t.group) {
            Some((_, list)) => list.push(t),
            None => out.push((t.group.clone(), vec![t])),
        }
    }
    out
}

#[component]
fn AddVariant(on_add: impl Fn(String) + Clone + Send + Sync + 'static) -> impl IntoView {
    let code = RwSignal::new(String::new());
    view! {
        <span class="add-variant">
            <label class="visually-hidden" for="variant-code">"Language code of a new variant"</label>
            <input id="variant-code" size="5" placeholder="fr" prop:value=code on:input=move |e| code.set(event_target_value(&e)) />
            <button type="button" class="small" on:click=move |_| {
                let c = code.get().trim().to_lowercase();
                if !c.is_empty() { on_add(c); code.set(String::new()); }
            }>"Add language"</button>
        </span>
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn utf16_offsets_become_byte_offsets() {
        let s = "é😀a";
        assert_eq!(super::byte_offset(s, 0), 0);
        assert_eq!(super::byte_offset(s, 1), 2);
        assert_eq!(super::byte_offset(s, 3), 6);
        assert_eq!(super::byte_offset(s, 4), 7);
        assert_eq!(super::byte_offset(s, 99), 7);
    }
}
