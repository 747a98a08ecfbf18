//! "Did you mean ..?" for misspelt keys.

use crate::symbol::Symbol;

/// The known key closest to `word`, if it is close enough to be a typo.
pub(crate) fn closest(word: &str, known: &[Symbol]) -> Option<Symbol> {
    known
        .iter()
        .map(|symbol| (edit_distance(word, symbol.0), *symbol))
        .filter(|(distance, symbol)| *distance <= 2.max(symbol.0.len() / 3))
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, symbol)| symbol)
}

/// The message for an unknown key: what is allowed and, when there is one,
/// the likely intended key.
pub(crate) fn unknown_key_message(word: &str, attribute: &str, known: &[Symbol]) -> String {
    let expected = known
        .iter()
        .map(|symbol| format!("`{symbol}`"))
        .collect::<Vec<_>>()
        .join(", ");
    let mut message = format!("unknown key `{word}` in `{attribute}`; expected one of {expected}");
    if let Some(symbol) = closest(word, known) {
        message.push_str(&format!(" (did you mean `{symbol}`?)"));
    }
    message
}

/// Levenshtein distance between two short words.
fn edit_distance(left: &str, right: &str) -> usize {
    let right: Vec<char> = right.chars().collect();
    let mut previous: Vec<usize> = (0..=right.len()).collect();
    for (i, left_char) in left.chars().enumerate() {
        let mut current = vec![i + 1];
        for (j, right_char) in right.iter().enumerate() {
            let substitution = previous[j] + usize::from(left_char != *right_char);
            current.push(substitution.min(previous[j + 1] + 1).min(current[j] + 1));
        }
        previous = current;
    }
    previous[right.len()]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::symbol::{CORRELATE, ON_KEYS, SENDS};

    #[test]
    fn suggests_sends_for_send() {
        assert_eq!(closest("send", ON_KEYS), Some(SENDS));
    }

    #[test]
    fn suggests_correlate_for_corelate() {
        assert_eq!(closest("corelate", ON_KEYS), Some(CORRELATE));
    }

    #[test]
    fn suggests_nothing_for_an_unrelated_word() {
        assert_eq!(closest("priority", ON_KEYS), None);
    }

    #[test]
    fn message_lists_the_keys_and_the_suggestion() {
        assert_eq!(
            unknown_key_message("send", "#[on(..)]", ON_KEYS),
            "unknown key `send` in `#[on(..)]`; expected one of `start`, `correlate`, `sends`, `in`, `to` (did you mean `sends`?)"
        );
    }
}
