//! A name a few characters off another — a typo — measured one way for every "did you mean"
//! that names a vault object (KVC601) and for the secretObjects entry that repeats it (KVC801).

/// Whether `other` is a slip of `name`: a different name, case aside at most a third of
/// `name`'s length (and at least 2) edits away, and at most half (at least 2) of the part
/// that differs once a shared prefix and suffix are set aside. A shared `-api-key` made
/// `billing-api-key` a slip of `shipping-api-key` by length alone: another service's secret
/// offered as a typo (audit EEE1).
pub(crate) fn is_slip(name: &str, other: &str) -> bool {
    if name == other {
        return false;
    }
    let d = distance(name, other);
    d <= (name.len() / 3).max(2) && d <= (differing_part(name, other) / 2).max(2)
}

/// The length of the longer of `a` and `b` once their common prefix and suffix (case aside)
/// are taken off: the part a typo touched.
fn differing_part(a: &str, b: &str) -> usize {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let same = |x: &u8, y: &u8| x.eq_ignore_ascii_case(y);
    let prefix = a.iter().zip(b).take_while(|(x, y)| same(x, y)).count();
    let (a, b) = (&a[prefix..], &b[prefix..]);
    let suffix = (a.iter().rev())
        .zip(b.iter().rev())
        .take_while(|(x, y)| same(x, y))
        .count();
    a.len().max(b.len()) - suffix
}

/// Of `candidates`, the nearest slip of `name`.
pub(crate) fn nearest<'c>(
    candidates: impl IntoIterator<Item = &'c str>,
    name: &str,
) -> Option<&'c str> {
    candidates
        .into_iter()
        .filter(|c| is_slip(name, c))
        .map(|c| (distance(name, c), c))
        .min()
        .map(|(_, c)| c)
}

fn distance(a: &str, b: &str) -> usize {
    strsim::levenshtein(&a.to_ascii_lowercase(), &b.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typos_are_slips() {
        for (name, other) in [
            ("db-pasword", "db-password"),
            ("chekout-db", "checkout-db"),
            ("my-secert", "my-secret"),
            ("api-key-prd", "api-key-prod"),
            ("Checkout-Pass", "checkout-pas"),
        ] {
            assert!(is_slip(name, other), "{name} / {other}");
        }
    }

    #[test]
    fn other_names_sharing_a_long_suffix_are_not_slips() {
        for (name, other) in [
            ("billing-api-key", "shipping-api-key"),
            ("reviews-api-key", "ratings-api-key"),
            ("partners-api-key", "orders-api-key"),
            ("a", "a"),
        ] {
            assert!(!is_slip(name, other), "{name} / {other}");
        }
    }
}
