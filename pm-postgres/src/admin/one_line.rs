//! [`OneLine`]: stored text (errors, ids and types taken from payloads)
//! made safe for one line of an operator's report.

use std::fmt;

/// Text from a payload or an error, shown on one line of a report: line
/// breaks, tabs and other control characters are escaped (`\n`, `\t`,
/// `\u{1b}`), and the text is cut after [`OneLine::LIMIT`] bytes, saying how
/// many more there were.
///
/// ```
/// use pm_postgres::OneLine;
///
/// assert_eq!(OneLine("refused:\n\tno card").to_string(), r"refused:\n\tno card");
/// let long = "x".repeat(OneLine::LIMIT + 10);
/// assert!(OneLine(&long).to_string().ends_with("... (10 more bytes)"));
/// ```
#[derive(Debug, Clone, Copy)]
pub struct OneLine<'a>(pub &'a str);

impl OneLine<'_> {
    /// How many bytes of the text are shown.
    pub const LIMIT: usize = 500;
}

impl fmt::Display for OneLine<'_> {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = self.0;
        let mut end = text.len().min(Self::LIMIT);
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        for character in text[..end].chars() {
            match character {
                '\n' => formatter.write_str(r"\n")?,
                '\r' => formatter.write_str(r"\r")?,
                '\t' => formatter.write_str(r"\t")?,
                control if control.is_control() => {
                    write!(formatter, "{}", control.escape_unicode())?;
                }
                other => fmt::Write::write_char(formatter, other)?,
            }
        }
        if end < text.len() {
            write!(formatter, "... ({} more bytes)", text.len() - end)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::OneLine;

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(
            OneLine("a\r\nb\tc\u{1b}[0m").to_string(),
            r"a\r\nb\tc\u{1b}[0m"
        );
        assert_eq!(OneLine("plain `text`").to_string(), "plain `text`");
    }

    #[test]
    fn long_text_is_cut_at_a_character_boundary() {
        let long = "é".repeat(OneLine::LIMIT);
        let shown = OneLine(&long).to_string();
        let kept = OneLine::LIMIT / 2 * 2;
        assert_eq!(
            shown,
            format!("{}... ({} more bytes)", &long[..kept], long.len() - kept)
        );
    }
}
