//! A name a few characters off another — a typo — measured one way for every "did you mean"
//! that names a vault object (KVC601) and for the secretObjects entry that repeats it (KVC801).

/// Whether `other` is a slip of `name`: a different name, case aside at most a third of
/// `name`'s length (and at least 2) edits away.
pub(crate) fn is_slip(name: &str, other: &str) -> bool {
    name != other && distance(name, other) <= (name.len() / 3).max(2)
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
