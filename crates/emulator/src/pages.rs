//! The HTML the emulated service serves: what 2008 clients fetched and
//! scraped (the login form, home.php's profile link, channel and form token).

use fbcomet_chat::User;

/// Text for HTML element content and quoted attributes.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
}

/// The inside of a JavaScript string literal in an inline `<script>`: every
/// character that could end the string, the script element or the line
/// (`"`, `'`, `\\`, `<`, `>`, `&`, line terminators, controls) is a `\\uXXXX`
/// escape, so that a name like `</script><script>...` stays text.
pub(crate) fn js_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '"' | '\'' | '\\' | '<' | '>' | '&' | '/' | '\u{2028}' | '\u{2029}' => {
                out.push_str(&format!("\\u{:04x}", c as u32));
            }
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

const DOCTYPE: &str =
    r#"<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Strict//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-strict.dtd">"#;

/// login.php: the first form has `email` and `pass` (and the hidden fields
/// the 2008 page had); `error` shows above it after a failed attempt.
pub(crate) fn login(error: Option<&str>) -> String {
    let error = error
        .map(|e| {
            format!(r#"<div id="error" class="login_error"><h2>Incorrect email or password</h2>{}</div>"#, escape(e))
        })
        .unwrap_or_default();
    format!(
        "{DOCTYPE}\n<html><head><title>Facebook | Welcome to Facebook!</title></head><body>\n{error}\
         <form method=\"post\" id=\"login_form\" action=\"/login.php\">\
         <input type=\"hidden\" name=\"md5pass\" value=\"0\" /><input type=\"hidden\" name=\"noerror\" value=\"1\" />\
         <label for=\"email\">Email:</label><input type=\"text\" class=\"inputtext\" name=\"email\" id=\"email\" value=\"\" />\
         <label for=\"pass\">Password:</label><input type=\"password\" class=\"inputpassword\" name=\"pass\" id=\"pass\" value=\"\" />\
         <input type=\"submit\" value=\"Login\" name=\"login\" id=\"login\" /></form>\n\
         <p>fbcomet emulates the 2008 chat service; nothing here is Facebook's.</p>\n</body></html>\n"
    )
}

/// The `client_revision` the pages name (fbchat sends it back as `__rev`).
pub(crate) const CLIENT_REVISION: u64 = 3_496_389;

/// home.php (and `/` once logged in), with what clients of each era
/// scraped: the profile link, `post_form_id` and the channel of 2008; the
/// `fb_dtsg` and `h` inputs and `"client_revision":N,` of 2013-2018 (the
/// service issues one token as both `post_form_id` and `fb_dtsg`).
///
/// It is also the chat page: the chat bar of `chat.js` (served from the
/// binary) with its configuration in a JSON block, and small definitions
/// of what the 2008 scripts called, so that the page runs in a browser
/// without errors.
pub(crate) fn home(user: &User, post_form_id: &str) -> String {
    let config = serde_json::json!({
        "uid": user.uid,
        "name": user.name,
        "post_form_id": post_form_id,
        "presence_ms": 5000,
    });
    // In a <script> block, `<`, `>` and `&` must not appear as themselves.
    let config = config.to_string().replace('<', "\\u003c").replace('>', "\\u003e").replace('&', "\\u0026");
    format!(
        "{DOCTYPE}\n<html><head><title>Facebook | Home</title>\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\" />\
         <link rel=\"stylesheet\" href=\"/fbcomet/chat.css\" />\
         <script type=\"text/javascript\">{SCRIPT_STUBS}</script></head><body>\n\
         <div id=\"fb_menubar\"><a href=\"http://www.facebook.com/profile.php?id={uid}\" class=\"profile_nav_link\">Profile</a> \
         <a href=\"/logout.php\">Logout</a></div>\n\
         <input type=\"hidden\" id=\"post_form_id\" name=\"post_form_id\" value=\"{post_form_id}\" />\n\
         <form id=\"logout_form\" method=\"post\" action=\"/logout.php\">\
         <input type=\"hidden\" name=\"fb_dtsg\" value=\"{post_form_id}\" autocomplete=\"off\" />\
         <input type=\"hidden\" name=\"h\" value=\"{post_form_id}\" /></form>\n\
         <h1>Welcome, {name}</h1>\n\
         <script type=\"text/javascript\">onloadRegister(function (){{window.presence = new Presence(\"{uid}\", \"{name_js}\", \"channel{channel:02}\", 0);}});</script>\n\
         <script type=\"text/javascript\">require(\"ServerJSDefine\").handleDefines([[\"SiteData\",[],{{\"client_revision\":{CLIENT_REVISION},\"push_phase\":\"V3\"}},317]]);</script>\n\
         <p class=\"note\">The chat bar below speaks the 2008 protocol to this server; <b>Wire</b> shows each request and answer. \
         <a href=\"/fbcomet/\">The service, live</a>.</p>\n\
         <script type=\"application/json\" id=\"fbcomet-config\">{config}</script>\n\
         <script type=\"text/javascript\" src=\"/fbcomet/chat.js\"></script>\n\
         </body></html>\n",
        uid = user.uid,
        name = escape(&user.name),
        name_js = js_string(&user.name),
        channel = user.channel,
    )
}

/// What the 2008 page's inline scripts called, defined so that they run:
/// `onloadRegister` runs its function at load, `Presence` keeps its
/// arguments, `require(...).handleDefines` takes the site data.
const SCRIPT_STUBS: &str = "window.onloadRegister=function(f){window.addEventListener('load',f)};\
window.Presence=function(u,n,c,i){this.user=u;this.name=n;this.channel=c;this.idle=i};\
window.require=function(){return{handleDefines:function(){}}};";

/// The chat bar's script and style, served from the binary.
pub(crate) const CHAT_JS: &str = include_str!("assets/chat.js");
/// See [`CHAT_JS`].
pub(crate) const CHAT_CSS: &str = include_str!("assets/chat.css");
/// `/fbcomet/`: the service, live.
pub(crate) const SERVICE_HTML: &str = include_str!("assets/service.html");
/// See [`SERVICE_HTML`].
pub(crate) const SERVICE_JS: &str = include_str!("assets/service.js");

/// After logout.
pub(crate) fn logged_out() -> String {
    format!(
        "{DOCTYPE}\n<html><head><title>Facebook | Logged out</title></head><body><p>You are logged out. <a href=\"/login.php\">Log in</a></p></body></html>\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(name: &str) -> User {
        User {
            uid: 1666,
            name: name.to_owned(),
            first_name: "Eve".to_owned(),
            email: "eve@example.com".to_owned(),
            password: "eve".to_owned(),
            channel: 6,
            status: None,
            access_token: None,
        }
    }

    #[test]
    fn a_name_cannot_leave_its_script_string() {
        let page = home(&user("Eve</script><script>alert(1)</script>\"'\n\u{2028}"), "pfid");
        // The page's own five scripts, and no more.
        assert_eq!(page.matches("<script").count(), 5, "{page}");
        assert_eq!(page.matches("</script>").count(), 5, "{page}");
        assert!(page.contains(r#""name":"Eve\u003c/script\u003e"#), "the configuration block too: {page}");
        assert!(
            page.contains(r#"new Presence("1666", "Eve\u003c\u002fscript\u003e\u003cscript\u003ealert(1)"#),
            "{page}"
        );
        assert!(page.contains("<h1>Welcome, Eve&lt;/script&gt;"), "{page}");
    }
}
