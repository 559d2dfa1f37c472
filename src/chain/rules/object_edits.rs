//! The edit a KVC705 fix names for one problem of a SecretProviderClass's `objects`
//! (FACTS §5: the provider's checks of an item), so the fix says the field and the value to
//! set rather than only "parameters.objects" (audit I5, LL13).

use crate::chain::context::Ctx;
use crate::spc::SpcProblem;

/// The edit problem `pr` of the chain's SPC determines, if it does.
pub(crate) fn edit(cx: &Ctx, pr: &SpcProblem) -> Option<String> {
    if pr.field == "objects" {
        return yaml_edit(raw_objects(cx)?, pr.line?);
    }
    object_edit(&pr.field, &pr.message)
}

/// The `objects` string the provider reads: the volume's attribute over the SPC's parameter
/// (the driver merges volumeAttributes over the parameters, FACTS §5).
fn raw_objects<'a>(cx: &Ctx<'a>) -> Option<&'a str> {
    (cx.attributes.get("objects"))
        .or_else(|| cx.spc.and_then(|s| s.parameters.get("objects")))
        .map(String::as_str)
}

/// The objects string does not parse at `line` (1-based): when that line is indented other
/// than the key above it inside the same `- |` item (a mis-indented key, the usual slip), the
/// edit re-indents it to match; when a `key: value` line stands among a list's `- |` items
/// ([`stray_key`]), the edit deletes or moves it; other YAML errors are left to the message.
fn yaml_edit(raw: &str, line: usize) -> Option<String> {
    mis_indented(raw, line).or_else(|| stray_key(raw, line))
}

/// `array:` takes a list of `- |` items, one YAML string per object (FACTS §5). A `key: value`
/// line at the items' own indent, beside them (lab fault `break-objects-yaml`: `objectName:
/// oops` right under `array:`), makes the block a mapping and a list at once, which YAML
/// refuses (`did not find expected key` at the item after it, or `did not find expected '-'
/// indicator`). The edit names the first such line among the siblings of the line the parser
/// stopped at (audit W1: the fix said only `# parameters.objects`).
fn stray_key(raw: &str, line: usize) -> Option<String> {
    let lines: Vec<&str> = raw.lines().collect();
    let at = line.checked_sub(1)?;
    let indent = |l: &str| l.len() - l.trim_start().len();
    let here = *lines.get(at)?;
    if here.trim().is_empty() {
        return None;
    }
    let level = indent(here);
    // The block holding `here`: the lines around it not indented less (blank ones aside).
    let inside = |l: &&&str| l.trim().is_empty() || indent(l) >= level;
    let start = at - lines[..at].iter().rev().take_while(inside).count();
    let end = at + lines[at..].iter().take_while(inside).count();
    let siblings =
        (start..end).filter(|&i| !lines[i].trim().is_empty() && indent(lines[i]) == level);
    let is_item = |l: &str| l.trim_start() == "-" || l.trim_start().starts_with("- ");
    let is_key = |l: &str| !is_item(l) && l.trim().contains(':');
    let (mut items, mut key) = (false, None);
    for i in siblings {
        items |= is_item(lines[i]);
        if key.is_none() && is_key(lines[i]) {
            key = Some(i);
        }
    }
    let key = key.filter(|_| items)?;
    let parent = lines[..start]
        .iter()
        .rev()
        .find(|l| !l.trim().is_empty())
        .map_or("the list", |l| l.trim());
    Some(format!(
        "parameters.objects, line {}: delete `{}`, a key among the `- |` items of {parent} (a list takes items only); if it names an object, make it an item of its own: a `- |` line, then objectName and objectType indented under it",
        key + 1,
        lines[key].trim()
    ))
}

/// The objects string does not parse at `line`: `line` is a key indented other than the key
/// above it inside the same `- |` item.
fn mis_indented(raw: &str, line: usize) -> Option<String> {
    let lines: Vec<&str> = raw.lines().collect();
    let here = *lines.get(line.checked_sub(1)?)?;
    let above = lines[..line - 1]
        .iter()
        .rev()
        .find(|l| !l.trim().is_empty())?;
    let indent = |l: &str| l.len() - l.trim_start().len();
    // The line above is a key of the same item (not the `- |` that opens it).
    let key_above = above.trim().contains(": ") && !above.trim_start().starts_with('-');
    if !key_above || indent(here) == indent(above) || here.trim().is_empty() {
        return None;
    }
    let key = here.trim().split(':').next().unwrap_or_default();
    let above_key = above.trim().split(':').next().unwrap_or_default();
    Some(format!(
        "parameters.objects, line {line}: indent {key} by {} spaces, as {above_key} on the line above (now {}; every key of one `- |` item at one indent)",
        indent(above),
        indent(here)
    ))
}

/// The edit one `objects` problem determines (FACTS §5: the provider's checks of an item),
/// if it does: `field` is its path (`objects.array[0].objectType`).
fn object_edit(field: &str, message: &str) -> Option<String> {
    if let Some(key) = message
        .split("duplicate key \"")
        .nth(1)
        .and_then(|k| k.split('"').next())
    {
        return Some(match key {
            // Two names in one item: the second is the file name, objectAlias.
            "objectName" => {
                format!("{field}: rename the second objectName to objectAlias (the file name)")
            }
            key => format!("{field}: keep one {key}"),
        });
    }
    if let Some(raw) = message
        .strip_prefix("Invalid vaultObjectTypes \"")
        .and_then(|r| r.split('"').next())
    {
        return object_type_meant(raw).map(|t| format!("{field}: {t}"));
    }
    let edit = match message {
        // FACTS §5: objectName is required; a null one (`objectName:   # comment`) is
        // missing too. Its value is the user's, but the entry and the key are not (TT8).
        "objectName is required" => "<the Key Vault object's name>".to_string(),
        m if m.starts_with("objectEncoding only supported") => {
            "remove it (only a secret has an encoding)".to_string()
        }
        m if m.starts_with("PFX format only supported") => {
            "remove it, or objectType: secret (a certificate's PFX is its secret)".to_string()
        }
        m if m.starts_with("invalid objectEncoding") => {
            "utf-8, base64 or hex (or remove it: utf-8 is the default)".to_string()
        }
        m if m.starts_with("invalid objectFormat") => {
            "PEM or PFX (or remove it: PEM is the default)".to_string()
        }
        // yaml.v3 decodes a quoted number as a string, which no int32 field takes (audit Z5).
        m if m.starts_with(crate::spc::QUOTED_INTEGER) => {
            "remove the quotes around the number (an integer, not a string)".to_string()
        }
        m if m.starts_with("file name must not contain '..'") => {
            "a file name without '..'".to_string()
        }
        // FACTS §5: the file name must be relative; the file lands in the volume's mountPath
        // whatever it says, so its last part is the name meant (audit O5).
        m if m.starts_with("file name must be a relative path") => {
            let path = m.split_once(": ").map_or("", |(_, p)| p.trim());
            let base = path.trim_end_matches('/').rsplit('/').next().unwrap_or("");
            if base.is_empty() || base == ".." {
                return None;
            }
            if field.ends_with(".objectName") {
                format!("{base} (the Key Vault name, which has no '/')")
            } else {
                format!("{base} (a relative name: the file is written in the volume's mountPath)")
            }
        }
        // The driver parses filePermission as an octal string (FACTS §5): the octal digits
        // written, when they make a mode, else the driver's default 0644 (audit LL13).
        m if m.starts_with("invalid filePermission") => {
            let raw = m.split('"').nth(1).unwrap_or_default();
            let digits: String = raw.chars().filter(|c| ('0'..='7').contains(c)).collect();
            let mode = if (3..=4).contains(&digits.len()) {
                digits
            } else {
                "0644".to_string()
            };
            format!("\"{mode}\" (an octal mode, quoted)")
        }
        _ => return None,
    };
    Some(format!("{field}: {edit}"))
}

/// The object type an unknown `objectType` was meant to be, when it is plain: a plural, a case,
/// `certificate` (FACTS §5: secret, key or cert).
fn object_type_meant(raw: &str) -> Option<&'static str> {
    let t = raw.trim().to_ascii_lowercase();
    let t = t.strip_suffix('s').unwrap_or(&t);
    match t {
        "secret" => Some("secret"),
        "key" => Some("key"),
        "cert" | "certificate" => Some("cert"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mis_indented_key_is_re_indented_as_the_key_above() {
        let raw = "array:\n  - |\n    objectName: api-key\n   objectType: secret\n";
        let e = yaml_edit(raw, 4).unwrap();
        assert!(
            e.contains("line 4: indent objectType by 4 spaces, as objectName"),
            "{e}"
        );
        assert_eq!(yaml_edit(raw, 2), None);
    }

    #[test]
    fn a_key_among_list_items_is_deleted_or_made_an_item() {
        // The lab's `break-objects-yaml`: the parser stops at the item after the key.
        let raw = "array:\n  objectName: oops\n  - |\n    objectName: db\n    objectType: secret\n";
        let e = yaml_edit(raw, 3).unwrap();
        assert!(
            e.starts_with("parameters.objects, line 2: delete `objectName: oops`, a key among the `- |` items of array:"),
            "{e}"
        );
        // Items only: nothing stray.
        let fine = "array:\n  - |\n    objectName: db\n    objectType: secret\n";
        assert_eq!(yaml_edit(fine, 2), None);
    }

    #[test]
    fn an_invalid_file_permission_gets_an_octal_mode() {
        let at = "objects.array[0].filePermission";
        let m = "invalid filePermission \"0644x\": expected an octal mode like 0644";
        assert_eq!(
            object_edit(at, m).unwrap(),
            format!("{at}: \"0644\" (an octal mode, quoted)")
        );
    }

    /// A KVC705 fix says the edit its problem determines, where it said only
    /// `# parameters.objects` (audit I5); a problem that leaves the choice open says none.
    #[test]
    fn an_objects_problem_names_its_edit() {
        let at = "objects.array[0].objectType";
        let edit = |m: &str| object_edit(at, m);
        for (raw, meant) in [
            ("secrets", "secret"),
            ("Certificate", "cert"),
            ("KEYS", "key"),
        ] {
            let m = format!("Invalid vaultObjectTypes {raw:?}. Should be secret, key, or cert");
            assert_eq!(edit(&m), Some(format!("{at}: {meant}")), "{raw}");
        }
        assert_eq!(
            edit("Invalid vaultObjectTypes \"blob\". Should be secret, key, or cert"),
            None
        );
        assert_eq!(
            edit("objectEncoding only supported for objectType: secret").as_deref(),
            Some("objects.array[0].objectType: remove it (only a secret has an encoding)")
        );
        assert!(
            edit("invalid objectEncoding: SECRET_ALIAS, should be hex, base64 or utf-8")
                .is_some_and(
                    |e| e.ends_with(": utf-8, base64 or hex (or remove it: utf-8 is the default)")
                )
        );
        assert!(
            edit("PFX format only supported for objectType: secret")
                .is_some_and(|e| e.contains("remove it, or objectType: secret"))
        );
        assert!(
            edit("file name must not contain '..'")
                .is_some_and(|e| e.ends_with(": a file name without '..'"))
        );
        assert_eq!(
            object_edit("objects.array[1].objectName", "objectName is required").as_deref(),
            Some("objects.array[1].objectName: <the Key Vault object's name>")
        );
    }
}
