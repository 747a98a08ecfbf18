//! Identifiers and the read statement of a table source. Table and column
//! names come from the application, so each is checked and quoted as an SQL
//! identifier, and the statement is filled in one pass, so that a name can
//! neither end its quotes nor be read as another placeholder.

use crate::error::Error;

/// The longest identifier Postgres keeps whole (NAMEDATALEN - 1 bytes);
/// longer ones it cuts silently, which would read another column.
const MAX_IDENTIFIER_BYTES: usize = 63;

/// `name` as a quoted SQL identifier: `"name"`, inner `"` doubled.
pub(crate) fn quote_identifier(role: &'static str, name: &str) -> Result<String, Error> {
    let reason = if name.is_empty() {
        Some("it is empty")
    } else if name.contains('\0') {
        Some("it contains a NUL character")
    } else if name.len() > MAX_IDENTIFIER_BYTES {
        Some("it is longer than the 63 bytes Postgres keeps of a name")
    } else {
        None
    };
    if let Some(reason) = reason {
        return Err(Error::InvalidIdentifier {
            role,
            name: name.to_owned(),
            reason,
        });
    }
    Ok(format!("\"{}\"", name.replace('"', "\"\"")))
}

/// `template` with each `{key}` replaced by its value, in one pass: text
/// inserted is never scanned again. An unknown `{key}` is kept as written.
pub(crate) fn fill(template: &str, values: &[(&str, &str)]) -> String {
    let mut filled = String::with_capacity(template.len() * 2);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        filled.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let key = after.find('}').map(|close| &after[..close]);
        match key.and_then(|key| values.iter().find(|(name, _)| *name == key)) {
            Some((key, value)) => {
                filled.push_str(value);
                rest = &after[key.len() + 1..];
            }
            None => {
                filled.push('{');
                rest = after;
            }
        }
    }
    filled.push_str(rest);
    filled
}

#[cfg(test)]
mod tests {
    use super::{fill, quote_identifier};

    #[test]
    fn identifiers_are_quoted_with_inner_quotes_doubled() {
        assert_eq!(quote_identifier("table", "events").unwrap(), "\"events\"");
        assert_eq!(
            quote_identifier("table", "x\"; DROP TABLE t; --").unwrap(),
            "\"x\"\"; DROP TABLE t; --\""
        );
    }

    #[test]
    fn unusable_identifiers_are_refused() {
        for name in ["", "a\0b", &"n".repeat(64)] {
            let error = quote_identifier("column", name).unwrap_err();
            assert!(error.to_string().starts_with("the column name"), "{error}");
        }
        assert!(quote_identifier("column", &"n".repeat(63)).is_ok());
    }

    #[test]
    fn filling_is_one_pass() {
        let filled = fill(
            "SELECT {a} FROM {b} WHERE {c}",
            &[("a", "\"{b}\""), ("b", "\"t\"")],
        );
        assert_eq!(filled, "SELECT \"{b}\" FROM \"t\" WHERE {c}");
    }
}
