//! YAML reading with positions: typed parsing through serde_yaml_ng (a maintained drop-in
//! successor of serde_yaml that keeps its error locations and alias-expansion limits), plus
//! "did you mean" suggestions for unknown fields located on their line.

use std::path::Path;

use serde::de::DeserializeOwned;

use super::Diagnostic;

/// Parses `text` (the file at `path`) into `T`, after checking every mapping key against the
/// fields `T` accepts so that *all* unknown fields are reported, each with a suggestion.
pub fn parse<T: DeserializeOwned>(
    path: &Path,
    text: &str,
    fields: &Fields,
) -> Result<T, Vec<Diagnostic>> {
    let value = known_fields(path, text, fields)?;
    // The parsed value makes `T` without parsing the text again; only a value that does not fit
    // `T` is parsed again, from the text, for an error that knows its line and column.
    serde_yaml_ng::from_value(value)
        .or_else(|_| serde_yaml_ng::from_str(text))
        .map_err(|e| vec![from_error(path, &e)])
}

/// [`parse`] for a mapping whose fields are all optional: every field whose value does not fit
/// is reported (each at its key), not only the first, and `T` is made from the fields that fit,
/// so the caller's own checks can run in the same pass. Returns `T`, the problems, and the keys
/// left out.
pub fn parse_fields<T: DeserializeOwned>(
    path: &Path,
    text: &str,
    fields: &Fields,
) -> Result<(T, Vec<Diagnostic>, Vec<String>), Vec<Diagnostic>> {
    let value = known_fields(path, text, fields)?;
    let mut problems = Vec::new();
    let serde_yaml_ng::Value::Mapping(map) = value else {
        // Not a mapping: the one error says so.
        return serde_yaml_ng::from_value(value)
            .map(|t| (t, Vec::new(), Vec::new()))
            .map_err(|e| vec![Diagnostic::new(path, strip_location(&e.to_string()))]);
    };
    let mut fitting = serde_yaml_ng::Mapping::new();
    let mut left_out = Vec::new();
    for (key, val) in map {
        let mut alone = serde_yaml_ng::Mapping::new();
        alone.insert(key.clone(), val.clone());
        match serde_yaml_ng::from_value::<T>(serde_yaml_ng::Value::Mapping(alone)) {
            Ok(_) => {
                fitting.insert(key, val);
            }
            Err(e) => {
                let name = key.as_str().unwrap_or_default().to_string();
                let (line, col) = locate_value(text, &name).unwrap_or((1, 1));
                let message = strip_location(&e.to_string());
                let message = match message.starts_with(&format!("{name}:")) {
                    true => message,
                    false => format!("{name}: {message}"),
                };
                problems.push(Diagnostic::at(path, line, col, message));
                left_out.push(name);
            }
        }
    }
    let t = serde_yaml_ng::from_value(serde_yaml_ng::Value::Mapping(fitting))
        .map_err(|e| vec![from_error(path, &e)])?;
    Ok((t, problems, left_out))
}

/// `text` parsed as YAML, once every key is one of `fields` (every unknown key is reported).
fn known_fields(
    path: &Path,
    text: &str,
    fields: &Fields,
) -> Result<serde_yaml_ng::Value, Vec<Diagnostic>> {
    let value: serde_yaml_ng::Value =
        serde_yaml_ng::from_str(text).map_err(|e| vec![syntax_error(path, text, &e)])?;
    let mut problems = Vec::new();
    check_keys(path, text, &value, fields, &mut problems);
    match problems.is_empty() {
        true => Ok(value),
        false => Err(problems),
    }
}

/// The field names a mapping accepts, and those of its nested mappings.
pub struct Fields {
    /// Accepted keys at this level.
    pub names: &'static [&'static str],
    /// Nested mappings (or lists of mappings) by key.
    pub nested: &'static [(&'static str, &'static Fields)],
}

fn check_keys(
    path: &Path,
    text: &str,
    value: &serde_yaml_ng::Value,
    fields: &Fields,
    out: &mut Vec<Diagnostic>,
) {
    match value {
        serde_yaml_ng::Value::Mapping(map) => {
            for (key, val) in map {
                let Some(key) = key.as_str() else { continue };
                if !fields.names.contains(&key) {
                    let (line, col) = locate_key(text, key).unwrap_or((1, 1));
                    let mut msg = format!("unknown field '{key}'");
                    if let Some(best) = suggest(key, fields.names) {
                        msg.push_str(&format!(" (did you mean '{best}'?)"));
                    } else {
                        msg.push_str(&format!("; expected one of: {}", fields.names.join(", ")));
                    }
                    out.push(Diagnostic::at(path, line, col, msg));
                } else if let Some((_, nested)) = fields.nested.iter().find(|(k, _)| *k == key) {
                    check_keys(path, text, val, nested, out);
                }
            }
        }
        serde_yaml_ng::Value::Sequence(items) => {
            for item in items {
                check_keys(path, text, item, fields, out);
            }
        }
        _ => {}
    }
}

/// The closest accepted name, when it is close enough to be a likely typo.
pub fn suggest<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    candidates
        .iter()
        .map(|c| (strsim::jaro_winkler(word, c), *c))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

/// 1-based line and column of the value of the entry `key:`: on the key's line when it has
/// one there, else the key itself (a block value below it).
fn locate_value(text: &str, key: &str) -> Option<(usize, usize)> {
    let (line, col) = locate_key(text, key)?;
    let on_line = text.lines().nth(line - 1)?;
    let after_key = &on_line[col - 1..];
    let colon = after_key.find(':')? + 1;
    let rest = &after_key[colon..];
    let value = rest.len() - rest.trim_start().len();
    match rest.trim_start().is_empty() || rest.trim_start().starts_with('#') {
        true => Some((line, col)),
        false => Some((line, col + colon + value)),
    }
}

/// 1-based line and column of the first line that starts a mapping entry `key:`.
fn locate_key(text: &str, key: &str) -> Option<(usize, usize)> {
    for (i, line) in text.lines().enumerate() {
        let trimmed = line.trim_start();
        let trimmed_list = trimmed
            .strip_prefix("- ")
            .map(str::trim_start)
            .unwrap_or(trimmed);
        for candidate in [trimmed, trimmed_list] {
            let rest = candidate
                .strip_prefix(key)
                .or_else(|| candidate.strip_prefix(&format!("\"{key}\"")))
                .or_else(|| candidate.strip_prefix(&format!("'{key}'")));
            if let Some(rest) = rest {
                if rest.trim_start().starts_with(':') {
                    let col = line.len() - candidate.len() + 1;
                    return Some((i + 1, col));
                }
            }
        }
    }
    None
}

/// A serde_yaml_ng error as a diagnostic, keeping its position.
fn from_error(path: &Path, err: &serde_yaml_ng::Error) -> Diagnostic {
    let message = strip_location(&err.to_string());
    match err.location() {
        Some(loc) => Diagnostic::at(path, loc.line(), loc.column(), message),
        None => Diagnostic::new(path, message),
    }
}

/// [`from_error`] for the text the error came from: a `[` or `{` left open is reported where
/// it opens (the parser notices only where the next line starts), the rest where the parser
/// stopped.
pub fn syntax_error(path: &Path, text: &str, err: &serde_yaml_ng::Error) -> Diagnostic {
    let message = strip_location(&err.to_string());
    let unclosed = message
        .contains("did not find expected ',' or")
        .then(|| err.location())
        .flatten()
        .and_then(|loc| unclosed_opener(text, loc.index()));
    match unclosed {
        Some((line, col, open)) => Diagnostic::at(
            path,
            line,
            col,
            format!(
                "'{open}' is never closed: add its '{}' at the end of the list",
                if open == '[' { ']' } else { '}' }
            ),
        ),
        None => from_error(path, err),
    }
}

/// The line and column (1-based) of the last `[` or `{` before byte `end` that no bracket
/// closes, outside quotes and comments: where a flow collection was left open.
fn unclosed_opener(text: &str, end: usize) -> Option<(usize, usize, char)> {
    let mut open: Vec<(usize, usize, char)> = Vec::new();
    for (i, line) in text[..end.min(text.len())].lines().enumerate() {
        let mut quote = None;
        for (col, c) in line.chars().enumerate() {
            match (quote, c) {
                (Some(q), c) if c == q => quote = None,
                (Some(_), _) => {}
                (None, '"' | '\'') => quote = Some(c),
                (None, '#') => break,
                (None, '[' | '{') => open.push((i + 1, col + 1, c)),
                (None, ']' | '}') => {
                    open.pop();
                }
                _ => {}
            }
        }
    }
    open.pop()
}

/// serde_yaml_ng appends " at line L column C" to messages; the diagnostic carries it already.
fn strip_location(msg: &str) -> String {
    match msg.find(" at line ") {
        Some(i) => msg[..i].to_string(),
        None => msg.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug)]
    #[allow(dead_code)]
    struct Doc {
        visibility: String,
    }

    const FIELDS: Fields = Fields {
        names: &["visibility", "display_name"],
        nested: &[],
    };

    #[test]
    fn unknown_field_is_located_and_suggested() {
        let text = "display_name: x\n\nvisiblity: public\n";
        let err = parse::<Doc>(Path::new("d.yaml"), text, &FIELDS).unwrap_err();
        assert_eq!(
            err[0].to_string(),
            "d.yaml:3:1: unknown field 'visiblity' (did you mean 'visibility'?)"
        );
    }

    #[test]
    fn type_errors_keep_their_position() {
        let text = "visibility: [1, 2]\n";
        let err = parse::<Doc>(Path::new("d.yaml"), text, &FIELDS).unwrap_err();
        assert!(
            err[0]
                .to_string()
                .starts_with("d.yaml:1:13: visibility: invalid type"),
            "{}",
            err[0]
        );
    }

    #[test]
    fn alias_bombs_are_refused() {
        let mut text = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..12 {
            text.push_str(&format!("a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n", p = if i == 1 { String::new() } else { (i - 1).to_string() }));
        }
        let err = parse::<Doc>(Path::new("d.yaml"), &text, &FIELDS).unwrap_err();
        assert!(err[0].message.contains("repetition limit"), "{}", err[0]);
    }
}
