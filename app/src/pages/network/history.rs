//! An object's history on its page: who changed what, when, from what to what.

use leptos::prelude::*;
use serde_json::Value;

use super::super::api_keys::day;
use crate::network::ChangeView;

/// The fields that differ between `before` and `after` (times of the write aside), as
/// (field, before, after), nested objects compared field by field.
fn differences(
    before: &Value,
    after: &Value,
    prefix: &str,
    found: &mut Vec<(String, String, String)>,
) {
    let keys: std::collections::BTreeSet<&String> = before
        .as_object()
        .into_iter()
        .chain(after.as_object())
        .flat_map(|map| map.keys())
        .collect();
    for key in keys {
        if prefix.is_empty() && matches!(key.as_str(), "updated_at" | "created_at") {
            continue;
        }
        let (old, new) = (&before[key], &after[key]);
        let name = if prefix.is_empty() { key.clone() } else { format!("{prefix}.{key}") };
        if old == new {
            continue;
        }
        if old.is_object() && new.is_object() {
            differences(old, new, &name, found);
        } else {
            found.push((name, show(old), show(new)));
        }
    }
}

fn show(value: &Value) -> String {
    match value {
        Value::Null => "—".to_owned(),
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// The changes loaded with the page; a reload shows changes made since.
#[component]
pub fn History(changes: Vec<ChangeView>) -> impl IntoView {
    view! {
        <section aria-labelledby="history-heading" id="history">
            <h2 id="history-heading">"History"</h2>
            <ol class="history">
                {changes.into_iter().map(|change| view! { <Change change /> }).collect_view()}
            </ol>
        </section>
    }
}

#[component]
fn Change(change: ChangeView) -> impl IntoView {
    let mut found = Vec::new();
    if let (Some(before), Some(after)) = (&change.before, &change.after) {
        differences(before, after, "", &mut found);
    }
    view! {
        <li>
            <p>
                <span class="when">{day(&change.at)}</span> " · " {change.actor} " · "
                <strong>{change.action}</strong>
            </p>
            {(!found.is_empty()).then(|| view! {
                <ul class="changes">
                    {found
                        .into_iter()
                        .map(|(field, old, new)| view! {
                            <li><code>{field}</code> ": " <del>{old}</del> " → " <ins>{new}</ins></li>
                        })
                        .collect_view()}
                </ul>
            })}
        </li>
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::differences;

    #[test]
    fn a_change_lists_what_moved_field_by_field() {
        let mut found = Vec::new();
        differences(
            &json!({"name": "East", "caps": {"day": 10, "hour": null}, "updated_at": "a"}),
            &json!({"name": "East", "caps": {"day": 20, "hour": null}, "updated_at": "b", "ring_tree": [1]}),
            "",
            &mut found,
        );
        assert_eq!(
            found,
            [
                ("caps.day".to_owned(), "10".to_owned(), "20".to_owned()),
                ("ring_tree".to_owned(), "—".to_owned(), "[1]".to_owned())
            ]
        );
    }
}
