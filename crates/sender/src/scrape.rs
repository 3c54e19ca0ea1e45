//! Reading what a client needs out of 2008 pages, the way the clients of
//! the time did (`samples/homepage-fragments-and-scrape-patterns.txt`).

use std::sync::LazyLock;

use regex::Regex;

fn re(pattern: &str) -> Regex {
    // The patterns are literals of this module, checked by its tests.
    Regex::new(pattern).unwrap_or_else(|e| panic!("bad pattern {pattern}: {e}"))
}

/// The uid of the logged-in user, by the patterns 2008-2010 clients used,
/// most specific first.
pub(crate) fn uid(page: &str) -> Option<u64> {
    static PATTERNS: LazyLock<Vec<Regex>> = LazyLock::new(|| {
        vec![
            // <a href="http://www.facebook.com/profile.php?id=UID" class="profile_nav_link">
            re(r#"<a\s[^>]*href="[^"]*profile\.php\?id=(\d+)[^"]*"[^>]*class="[^"]*profile_nav_link"#),
            re(r#"<a\s[^>]*class="[^"]*profile_nav_link[^"]*"[^>]*href="[^"]*profile\.php\?id=(\d+)"#),
            // coderrr: <a href=".../profile.php?id=UID&amp;ref=profile">Profile</a>
            re(r#"profile\.php\?id=(\d+)&(?:amp;)?ref=profile"#),
            // Adium, new layout 2008: <input type="hidden" id="user" name="user" value="UID" />
            re(r#"<input\s[^>]*name="user"[^>]*value="(\d+)""#),
            re(r#"<input\s[^>]*value="(\d+)"[^>]*name="user""#),
            // new Presence("UID", ...
            re(r#"Presence\(\s*"?(\d+)"#),
        ]
    });
    PATTERNS.iter().find_map(|p| p.captures(page)?.get(1)?.as_str().parse().ok())
}

/// The channel number: a quoted `"channelNN"` in inline script (`", "channel15"`,
/// or `","channel15"` where a proxy stripped the space).
pub(crate) fn channel(page: &str) -> Option<u32> {
    static PATTERN: LazyLock<Regex> = LazyLock::new(|| re(r#""channel(\d{1,4})""#));
    PATTERN.captures(page)?.get(1)?.as_str().parse().ok()
}

/// The form token: the hidden `post_form_id` input (attributes in any
/// order), or the `post_form_id:"..."` of inline script (2010 pages).
pub(crate) fn post_form_id(page: &str) -> Option<String> {
    static PATTERNS: LazyLock<Vec<Regex>> = LazyLock::new(|| {
        vec![
            re(r#"<input\s[^>]*name="post_form_id"[^>]*value="([^"]+)""#),
            re(r#"<input\s[^>]*value="([^"]+)"[^>]*name="post_form_id""#),
            re(r#"<input\s[^>]*id="post_form_id"[^>]*value="([^"]+)""#),
            re(r#"post_form_id["']?\s*:\s*"([^"]+)""#),
        ]
    });
    PATTERNS.iter().find_map(|p| Some(p.captures(page)?.get(1)?.as_str().to_owned()))
}

/// `fb_dtsg`, the token of later pages (`fb_dtsg:"..."` or a hidden input).
pub(crate) fn fb_dtsg(page: &str) -> Option<String> {
    static PATTERNS: LazyLock<Vec<Regex>> = LazyLock::new(|| {
        vec![re(r#"fb_dtsg["']?\s*:\s*"([^"]+)""#), re(r#"<input\s[^>]*name="fb_dtsg"[^>]*value="([^"]+)""#)]
    });
    PATTERNS.iter().find_map(|p| Some(p.captures(page)?.get(1)?.as_str().to_owned()))
}

/// The value of the hidden input `name` (attributes in either order).
pub(crate) fn input(page: &str, name: &str) -> Option<String> {
    static INPUT: LazyLock<Regex> = LazyLock::new(|| re(r"(?i)<input\b([^>]*)>"));
    static NAME: LazyLock<Regex> = LazyLock::new(|| re(r#"(?i)\bname\s*=\s*["']([^"']*)["']"#));
    static VALUE: LazyLock<Regex> = LazyLock::new(|| re(r#"(?i)\bvalue\s*=\s*["']([^"']*)["']"#));
    INPUT.captures_iter(page).find_map(|c| {
        let attrs = c.get(1)?.as_str();
        (NAME.captures(attrs)?.get(1)?.as_str() == name)
            .then(|| Some(unescape(VALUE.captures(attrs)?.get(1)?.as_str())))?
    })
}

/// `"client_revision":N` of a 2013-2018 page's inline script.
pub(crate) fn client_revision(page: &str) -> Option<u64> {
    static PATTERN: LazyLock<Regex> = LazyLock::new(|| re(r#""client_revision"\s*:\s*(\d+)"#));
    PATTERN.captures(page)?.get(1)?.as_str().parse().ok()
}

/// The first `<form>` of a page: where it posts, and its inputs with their
/// values, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Form {
    pub(crate) action: Option<String>,
    pub(crate) inputs: Vec<(String, String)>,
}

pub(crate) fn first_form(page: &str) -> Option<Form> {
    static FORM: LazyLock<Regex> = LazyLock::new(|| re(r"(?is)<form\b([^>]*)>(.*?)</form>"));
    static ACTION: LazyLock<Regex> = LazyLock::new(|| re(r#"(?i)\baction\s*=\s*["']([^"']*)["']"#));
    static INPUT: LazyLock<Regex> = LazyLock::new(|| re(r"(?i)<input\b([^>]*)>"));
    static NAME: LazyLock<Regex> = LazyLock::new(|| re(r#"(?i)\bname\s*=\s*["']([^"']*)["']"#));
    static VALUE: LazyLock<Regex> = LazyLock::new(|| re(r#"(?i)\bvalue\s*=\s*["']([^"']*)["']"#));
    static TYPE: LazyLock<Regex> = LazyLock::new(|| re(r#"(?i)\btype\s*=\s*["']([^"']*)["']"#));
    let form = FORM.captures(page)?;
    let attrs = form.get(1).map_or("", |m| m.as_str());
    let body = form.get(2).map_or("", |m| m.as_str());
    let action = ACTION.captures(attrs).and_then(|c| c.get(1)).map(|m| unescape(m.as_str()));
    let inputs = INPUT
        .captures_iter(body)
        .filter_map(|input| {
            let attrs = input.get(1)?.as_str();
            let name = NAME.captures(attrs)?.get(1)?.as_str();
            let kind = TYPE.captures(attrs).and_then(|c| c.get(1)).map_or("text", |m| m.as_str());
            if kind.eq_ignore_ascii_case("submit") || kind.eq_ignore_ascii_case("button") {
                return None;
            }
            let value = VALUE.captures(attrs).and_then(|c| c.get(1)).map_or(String::new(), |m| unescape(m.as_str()));
            Some((name.to_owned(), value))
        })
        .collect();
    Some(Form { action, inputs })
}

/// An error message on a login page that turned the credentials down.
pub(crate) fn login_error(page: &str) -> Option<String> {
    static PATTERN: LazyLock<Regex> =
        LazyLock::new(|| re(r#"(?is)<div[^>]*(?:id|class)="[^"]*(?:error|login_error)[^"]*"[^>]*>(.*?)</div>"#));
    static HEADING: LazyLock<Regex> = LazyLock::new(|| re(r"(?is)<h[1-6][^>]*>(.*?)</h[1-6]>"));
    static TAGS: LazyLock<Regex> = LazyLock::new(|| re(r"<[^>]*>"));
    let clean = |html: &str| TAGS.replace_all(html, " ").split_whitespace().collect::<Vec<_>>().join(" ");
    let inner = PATTERN.captures(page)?.get(1)?.as_str();
    // The heading is the summary, the rest the description: "summary: description".
    let (summary, description) = match HEADING.captures(inner) {
        Some(heading) => (clean(&heading[1]), clean(&HEADING.replace(inner, " "))),
        None => (String::new(), clean(inner)),
    };
    let text = match (summary.is_empty(), description.is_empty()) {
        (false, false) => format!("{}: {description}", summary.trim_end_matches(['.', ':'])),
        (false, true) => summary,
        _ => description,
    };
    (!text.is_empty()).then(|| unescape(&text))
}

fn unescape(s: &str) -> String {
    fbcomet_codec::unescape_html(s).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    // The markup variants of samples/homepage-fragments-and-scrape-patterns.txt.
    #[test]
    fn uid_from_every_variant() {
        for (page, want) in [
            (
                r#"<a href="http://www.facebook.com/profile.php?id=596176850" class="profile_nav_link">Profile</a>"#,
                596176850,
            ),
            (r#"<a href="http://www.facebook.com/profile.php?id=596176850" class="profile_nav_link">"#, 596176850),
            (r#"<a class="profile_nav_link" href="/profile.php?id=42">Profile</a>"#, 42),
            (r#"<a href="http://www.facebook.com/profile.php?id=800753867&amp;ref=profile">Profile</a>"#, 800753867),
            (r#"<input type="hidden" id="user" name="user" value="1190346972" />"#, 1190346972),
            (r#"window.presence = new Presence("100000123456789", "A")"#, 100000123456789),
        ] {
            assert_eq!(uid(page), Some(want), "{page}");
        }
        assert_eq!(uid("<html>no user here</html>"), None);
    }

    #[test]
    fn channel_from_every_variant() {
        for (page, n) in [
            (r#"presence.init(1, "Alice", "channel15", 0)"#, 15),
            (r#"presence.init(1,"Alice","channel07",0)"#, 7),
            (r#"<script src="x.js", "channel03"></script>"#, 3),
        ] {
            assert_eq!(channel(page), Some(n), "{page}");
        }
        assert_eq!(channel(r#"var s = "channel"; var t = "channels";"#), None);
    }

    #[test]
    fn form_token_from_every_variant() {
        for page in [
            r#"<input type="hidden" id="post_form_id" name="post_form_id" value="3414c0f2db19233221ad8c2374398ed6" />"#,
            r#"<input value="3414c0f2db19233221ad8c2374398ed6" name="post_form_id" type="hidden">"#,
            r#"Env={user:1,post_form_id:"3414c0f2db19233221ad8c2374398ed6",fb_dtsg:"AQx"}"#,
        ] {
            assert_eq!(post_form_id(page).as_deref(), Some("3414c0f2db19233221ad8c2374398ed6"), "{page}");
        }
        assert_eq!(fb_dtsg(r#"Env={fb_dtsg:"AQx_1"}"#).as_deref(), Some("AQx_1"));
    }

    #[test]
    fn the_first_form_and_its_inputs() {
        let page = r#"<form method="get" action="/s.php?a=1&amp;b=2"><input name="q" value="x &amp; y"><input type="submit" name="go" value="Go"></form><form action="/other"><input name="z"></form>"#;
        let form = first_form(page).expect("a form");
        assert_eq!(form.action.as_deref(), Some("/s.php?a=1&b=2"));
        assert_eq!(form.inputs, [("q".to_owned(), "x & y".to_owned())]);
        assert_eq!(first_form("<p>none</p>"), None);
    }

    #[test]
    fn login_errors() {
        let page = r#"<div id="error" class="error_box"><h2>Incorrect Email</h2>The email you entered does not belong to any account.</div>"#;
        assert_eq!(
            login_error(page).as_deref(),
            Some("Incorrect Email: The email you entered does not belong to any account.")
        );
        assert_eq!(login_error("<div>fine</div>"), None);
    }
}
