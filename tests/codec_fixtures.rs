//! One test per fixture body: every captured sample decodes to what its
//! expected file says, and every malformed body fails the way it says.

use fbcomet_e2e::{check_body_fixture, check_malformed_fixture, fixture_stems};

macro_rules! fixtures {
    ($check:ident, $dir:literal, $($name:ident => $stem:literal,)*) => {
        $(
            #[test]
            fn $name() {
                $check($stem);
            }
        )*

        /// Every fixture file has a test above, and every test a file.
        #[test]
        fn every_fixture_is_listed() {
            let listed: Vec<&str> = vec![$($stem),*];
            assert_eq!(fixture_stems($dir), listed, "fixtures/{} and the list here differ", $dir);
        }
    };
}

mod bodies {
    use super::*;
    fixtures! { check_body_fixture, "bodies",
        coderrr_continue => "coderrr-continue",
        coderrr_msg => "coderrr-msg",
        coderrr_presence_buddy_list => "coderrr-presence-buddy-list",
        coderrr_refresh_seq0 => "coderrr-refresh-seq0",
        coderrr_send_ok => "coderrr-send-ok",
        constructed_2009_unknown_events => "constructed-2009-unknown-events",
        constructed_history_payload => "constructed-history-payload",
        constructed_junk_before_prefix => "constructed-junk-before-prefix",
        constructed_no_prefix => "constructed-no-prefix",
        constructed_pull_backoff => "constructed-pull-backoff",
        constructed_pull_batched => "constructed-pull-batched",
        constructed_pull_fullreload => "constructed-pull-fullreload",
        constructed_pull_heartbeat => "constructed-pull-heartbeat",
        constructed_pull_msg_with_seq => "constructed-pull-msg-with-seq",
        constructed_reconnect_payload => "constructed-reconnect-payload",
        constructed_refresh_s_spelling => "constructed-refresh-s-spelling",
        constructed_reordered_escaped_64bit => "constructed-reordered-escaped-64bit",
        constructed_unknown_frame => "constructed-unknown-frame",
        constructed_warning_envelope => "constructed-warning-envelope",
        daizw_refresh_bare => "daizw-refresh-bare",
        error_1357001_not_logged_in_2008 => "error-1357001-not-logged-in-2008",
        facebook_chat_api_issue443_lb => "facebook-chat-api-issue443-lb",
        fbchat_issue45_refresh_reason110 => "fbchat-issue45-refresh-reason110",
        jitsi_typ_stop => "jitsi-typ-stop",
        pidgin_msg_own_echo_clienttime_seconds => "pidgin-msg-own-echo-clienttime-seconds",
        pidgin_msg_typ_plus_three_msgs => "pidgin-msg-typ-plus-three-msgs",
        presence_update_2008_06_with_notifications => "presence-update-2008-06-with-notifications",
        sendphp_error_1356003_2008_05 => "sendphp-error-1356003-2008-05",
    }
}

mod malformed {
    use super::*;
    fixtures! { check_malformed_fixture, "malformed",
        binary => "binary",
        deep_nesting => "deep-nesting",
        empty => "empty",
        error_code_not_a_number => "error-code-not-a-number",
        event_not_an_object => "event-not-an-object",
        event_without_type => "event-without-type",
        html_error_page => "html-error-page",
        invalid_utf8 => "invalid-utf8",
        json_array => "json-array",
        json_string => "json-string",
        lb_without_info => "lb-without-info",
        missing_text => "missing-text",
        ms_not_an_array => "ms-not-an-array",
        msg_without_ms => "msg-without-ms",
        neither_frame_nor_envelope => "neither-frame-nor-envelope",
        number_out_of_range => "number-out-of-range",
        prefix_only => "prefix-only",
        syntax_error => "syntax-error",
        t_not_a_string => "t-not-a-string",
        trailing_data => "trailing-data",
        truncated_object => "truncated-object",
        truncated_prefix => "truncated-prefix",
        uid_is_text => "uid-is-text",
        uid_overflows_64_bits => "uid-overflows-64-bits",
        whitespace_only => "whitespace-only",
    }
}
