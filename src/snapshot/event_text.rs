//! Event messages that carry secret values, made safe where they enter kvchain.
//!
//! Older Azure provider builds (the MSAL/autorest era FACTS §5 calls "older provider shape")
//! print the whole nodePublishSecretRef Secret when a key is missing:
//! `could not find clientsecret in secrets(map[client-secret:<value> clientid:<value>])`. The
//! usual cause is a misspelled key, so the map then holds the service principal's secret under
//! that key. kvchain never prints, logs or stores a secret value (README "Secrets stay
//! secret"): the map is hidden when the event is read (live, from files, from a snapshot
//! file), before any rule, output or `snapshot save` sees it. The key names are not kept
//! either: a value may hold spaces and colons, so no split of the map can be trusted to stop
//! at a value's end, and the rules read the Secret's keys from the Secret itself.

use std::borrow::Cow;

use serde::{Deserialize, Deserializer};

/// Where the provider's map starts: `secrets(map[`.
const MAP_START: &str = "secrets(map[";
/// What stands where the map was.
pub const HIDDEN: &str = "secrets(map[<values hidden by kvchain>])";

/// `msg` with every `secrets(map[…])` emptied. The map runs to its last `])` (a value may hold
/// `]` or `)`), or to the end of the message when that is missing (a message cut short).
pub fn without_secrets(msg: &str) -> Cow<'_, str> {
    let Some(start) = msg.find(MAP_START) else {
        return Cow::Borrowed(msg);
    };
    let body = &msg[start + MAP_START.len()..];
    let rest = body.rfind("])").map_or("", |end| &body[end + "])".len()..]);
    Cow::Owned(format!("{}{HIDDEN}{rest}", &msg[..start]))
}

/// Reads an event message from a snapshot or report file, hiding any secret map in it (a file
/// written by an older kvchain, or by hand, may hold one).
pub fn deserialize_message<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let msg = String::deserialize(d)?;
    Ok(match without_secrets(&msg) {
        Cow::Borrowed(_) => msg,
        Cow::Owned(safe) => safe,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const CANARY: &str = "Zq8~Canary.Secret_Value-123";

    #[test]
    fn the_older_providers_secret_map_is_hidden_and_the_cause_kept() {
        let msg = format!(
            "MountVolume.SetUp failed for volume \"kv\" : rpc error: code = Unknown desc = \
             failed to mount secrets store objects for pod shop/web-0, err: rpc error: code = \
             Unknown desc = failed to mount objects, error: failed to build auth config for \
             mode None: could not find clientsecret in secrets(map[client-secret:{CANARY} \
             clientid:0b7a1c2d-0000-4000-8000-000000000001])"
        );
        let safe = without_secrets(&msg);
        assert!(!safe.contains(CANARY), "{safe}");
        assert!(!safe.contains("0b7a1c2d"), "{safe}");
        assert!(
            safe.ends_with(&format!("could not find clientsecret in {HIDDEN}")),
            "{safe}"
        );
    }

    #[test]
    fn a_value_holding_brackets_spaces_or_a_cut_message_leaks_nothing() {
        for msg in [
            format!("could not find clientid in secrets(map[clientsecret:a]) b {CANARY}])"),
            format!("could not find clientid in secrets(map[clientsecret:{CANARY} x:y"),
            format!(
                "could not find clientid in secrets(map[clientsecret:a b:{CANARY}]) (retrying)"
            ),
        ] {
            let safe = without_secrets(&msg);
            assert!(!safe.contains(CANARY), "{msg} -> {safe}");
            assert!(safe.contains(HIDDEN), "{safe}");
        }
    }

    #[test]
    fn other_messages_are_left_as_they_are() {
        let msg = "failed to get keyvault client: could not find clientid in secrets";
        assert!(matches!(without_secrets(msg), Cow::Borrowed(m) if m == msg));
    }

    #[test]
    fn a_snapshot_file_is_read_with_the_map_hidden() {
        #[derive(serde::Deserialize)]
        struct E {
            #[serde(deserialize_with = "deserialize_message")]
            message: String,
        }
        let json = format!(r#"{{"message": "x in secrets(map[a:{CANARY}])"}}"#);
        let e: E = serde_json::from_str(&json).unwrap();
        assert_eq!(e.message, format!("x in {HIDDEN}"));
    }
}
