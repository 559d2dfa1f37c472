//! Large documents as kubectl writes them, read without holding all their parser events:
//! JSON (`kubectl get -o json`) through serde_json, and a YAML `kind: List` (`kubectl get -A
//! -o yaml`) entry by entry.
//!
//! serde_yaml holds all of a document's parser events before it builds the first value: for a
//! 12.7 MB List of 20,000 pods that was 201 MB of events on top of its value tree (heaptrack,
//! 419 MB at the peak). kubectl writes a List as a mapping whose `items:` is a block sequence
//! at column 0, so each entry parses on its own and only one entry's events are held at a time.
//! Anything else (flow style, another layout, a key a List does not have, an entry that does
//! not parse alone, such as an alias to another entry's anchor) is read whole, as before, so
//! errors keep their place and wording.

use std::ops::Range;

use serde::de::DeserializeSeed;
use serde_yaml::Value;

use super::{Bounded, Budget};

/// The keys kubectl writes beside `items`.
const HEAD_KEYS: [&str; 4] = ["apiVersion", "items", "kind", "metadata"];

/// `body` (one `---` part) as JSON (`kubectl get -o json`) or as a List laid out as kubectl
/// writes it, read without holding every parser event; `None` when it is neither or does not
/// read so: then it is read whole, with the budget as it was.
pub(super) fn read(body: &str, budget: &Budget) -> Option<Value> {
    let before = (budget.bytes.get(), budget.nodes.get());
    let value = json(body, budget).or_else(|| list(body, budget));
    if value.is_none() {
        budget.bytes.set(before.0);
        budget.nodes.set(before.1);
    }
    value
}

/// A document written as one JSON object, read by serde_json straight into the value (YAML
/// reads JSON alike, through events): 27.6 MB of `kubectl get -o json` peaked at 546 MB.
/// A text that is not only JSON (a YAML comment after it) is left to YAML.
fn json(body: &str, budget: &Budget) -> Option<Value> {
    if !body.trim_start().starts_with('{') {
        return None;
    }
    let mut de = serde_json::Deserializer::from_str(body);
    let value = Bounded::manifest(budget, body).deserialize(&mut de).ok()?;
    de.end().ok()?;
    Some(value)
}

fn list(body: &str, budget: &Budget) -> Option<Value> {
    let layout = layout(body)?;
    read_layout(body, &layout, budget)
}

fn read_layout(body: &str, layout: &Layout, budget: &Budget) -> Option<Value> {
    let head = format!(
        "{}{}",
        &body[..layout.items.start],
        &body[layout.items.end..]
    );
    let mut head = one_document(&head, budget)?;
    let map = head.as_mapping()?;
    let known = map
        .iter()
        .all(|(k, _)| k.as_str().is_some_and(|k| HEAD_KEYS.contains(&k)));
    let is_list = map
        .get("kind")
        .and_then(Value::as_str)
        .is_some_and(|k| k.ends_with("List"));
    if !known || !is_list || !map.get("items").is_some_and(Value::is_null) {
        return None;
    }
    let mut items = Vec::with_capacity(layout.entries.len());
    for entry in &layout.entries {
        match one_document(&body[entry.clone()], budget)? {
            Value::Sequence(mut one) if one.len() == 1 => items.extend(one.pop()),
            _ => return None,
        }
    }
    *head.get_mut("items")? = Value::Sequence(items);
    Some(head)
}

/// The only document of `text`, if it reads.
fn one_document(text: &str, budget: &Budget) -> Option<Value> {
    let mut docs = serde_yaml::Deserializer::from_str(text);
    let value = Bounded::manifest(budget, text)
        .deserialize(docs.next()?)
        .ok()?;
    docs.next().is_none().then_some(value)
}

/// Where a List's entries lie in its text.
#[derive(Debug, PartialEq, Eq)]
struct Layout {
    /// From the line after `items:` to the end of its last entry.
    items: Range<usize>,
    /// Each `- ` entry, with its indented lines.
    entries: Vec<Range<usize>>,
}

/// The entries of the one `items:` line's block sequence at column 0, if `body` has such.
fn layout(body: &str) -> Option<Layout> {
    let mut offset = 0;
    let mut items: Option<Range<usize>> = None;
    let mut entries: Vec<Range<usize>> = Vec::new();
    let mut open = false;
    for line in body.split_inclusive('\n') {
        let (start, end) = (offset, offset + line.len());
        offset = end;
        let t = line.trim_end();
        if open {
            if t == "-" || t.starts_with("- ") {
                entries.push(start..end);
                continue;
            }
            let inside = t.is_empty() || t.starts_with('#') || line.starts_with(' ');
            match entries.last_mut() {
                Some(last) if inside => {
                    last.end = end;
                    continue;
                }
                None if t.is_empty() || t.starts_with('#') => continue,
                None => return None,
                Some(_) => {
                    open = false;
                    items = items.map(|r| r.start..start);
                }
            }
        }
        if t == "items:" {
            if items.is_some() {
                return None;
            }
            items = Some(end..body.len());
            open = true;
        }
    }
    let items = items?;
    let entries_end = entries.last()?.end;
    Some(Layout {
        items: items.start..items.end.min(entries_end).max(items.start),
        entries,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn whole(text: &str) -> Value {
        serde_yaml::from_str(text).unwrap()
    }

    fn split(text: &str) -> Option<Value> {
        read(text, &Budget::for_text(text))
    }

    const LIST: &str = "apiVersion: v1\nitems:\n- apiVersion: v1\n  kind: Pod\n  metadata:\n    name: a\n    annotations:\n      note: |\n        line one\n\n        line three\n  spec:\n    containers:\n    - name: c\n      args: [\"x\", 'y']\n# between entries\n\n- apiVersion: v1\n  kind: Secret\n  metadata: {name: b}\n  stringData:\n    long: \"first\n      second\"\n-\n- kind: ConfigMap\nkind: List\nmetadata:\n  resourceVersion: \"\"\n";

    #[test]
    fn a_kubectl_list_reads_entry_by_entry_as_it_reads_whole() {
        let layout = layout(LIST).expect("kubectl's layout");
        assert_eq!(layout.entries.len(), 4);
        assert_eq!(split(LIST), Some(whole(LIST)));
        // Entries to the end of the text, no key after them.
        let last = "kind: List\napiVersion: v1\nitems:\n- a: 1\n- b: [2]\n";
        assert_eq!(split(last), Some(whole(last)));
    }

    #[test]
    fn any_other_shape_is_left_to_the_whole_reading() {
        let other = [
            // An alias to another entry's anchor: the entry does not read alone.
            "kind: List\nitems:\n- &a {x: 1}\n- *a\n",
            // A key a List does not have, or not a List.
            "kind: List\nspec: 1\nitems:\n- a: 1\n",
            "kind: Deployment\nitems:\n- a: 1\n",
            // Flow style, an indented sequence, two `items:`, a syntax error in an entry.
            "kind: List\nitems: [{a: 1}]\n",
            "kind: List\nitems:\n  - a: 1\n",
            "kind: List\nitems:\n- a: 1\nitems:\n- b: 2\n",
            "kind: List\nitems:\n- a: \"open\n",
            // A second document behind an end marker.
            "kind: List\nitems:\n- a: 1\n...\nb: 2\n",
        ];
        for text in other {
            assert_eq!(split(text), None, "{text}");
        }
    }

    #[test]
    fn json_reads_as_yaml_reads_it() {
        let text = "{\"kind\": \"List\", \"items\": [{\"a\": 1, \"b\": -2.5, \"c\": null, \"d\": true, \"e\": \"\\u00e9\\n\\/\"}], \"n\": 18446744073709551615}\n\n";
        assert_eq!(split(text), Some(whole(text)));
        // A duplicate key is an error either way; a comment after it is YAML's to read.
        assert_eq!(split("{\"a\": 1, \"a\": 2}"), None);
        assert_eq!(split("{\"a\": 1}\n# done\n"), None);
    }

    #[test]
    fn a_list_left_to_the_whole_reading_gets_its_budget_back() {
        let budget = Budget::for_text("x");
        let before = (budget.bytes.get(), budget.nodes.get());
        assert_eq!(
            read("kind: List\nitems:\n- &a {x: 1}\n- *a\n", &budget),
            None
        );
        assert_eq!((budget.bytes.get(), budget.nodes.get()), before);
    }
}
