//! The README's command lines, as the tests read them.

#![allow(dead_code, unreachable_pub)]

/// The README's `cargo run -- ...` lines: each line's arguments (after
/// `cargo run --`, its comment and a trailing `&` cut off), with the line
/// itself.
pub fn commands(readme: &str) -> Vec<(String, Vec<String>)> {
    readme
        .lines()
        .filter(|l| l.starts_with("cargo run -- "))
        .map(|line| {
            let command = line.split("  #").next().unwrap_or(line).trim();
            let foreground = command.strip_suffix('&').unwrap_or(command).trim();
            (command.to_owned(), shell_words(foreground.trim_start_matches("cargo run -- ")))
        })
        .collect()
}

/// Splits a command line the way a shell would, for the README's
/// simple quoting ('...' and "...").
pub fn shell_words(line: &str) -> Vec<String> {
    let (mut words, mut word, mut quote, mut any) = (Vec::new(), String::new(), None, false);
    for c in line.chars() {
        match (quote, c) {
            (None, '\'' | '"') => {
                quote = Some(c);
                any = true;
            }
            (Some(q), c) if c == q => quote = None,
            (None, c) if c.is_whitespace() => {
                if any || !word.is_empty() {
                    words.push(std::mem::take(&mut word));
                }
                any = false;
            }
            (_, c) => word.push(c),
        }
    }
    if any || !word.is_empty() {
        words.push(word);
    }
    words
}
