//! Re-authentication, expiry, silence and floods against scripted results.

use super::*;

fn reauth(session: &mut Session, token: &str) {
    let frame = format!(r#"{{"type":"auth","id":"a","token":"{token}"}}"#);
    assert_eq!(
        session.on_text(&frame),
        [Action::Io(Io::VerifyToken(token.into()))]
    );
}

#[test]
fn a_fresh_token_of_the_same_user_extends_the_connection() {
    let mut session = session();
    reauth(&mut session, "fresh");
    let fresh = verified(alice(), EXPIRES + 600);
    assert_eq!(
        session.on_done(Done::TokenVerified(Ok(fresh))),
        [Action::Io(Io::CheckSession(fresh))]
    );
    assert_eq!(
        session.on_done(Done::SessionChecked(SessionCheck::Live)),
        [ack_of("a", None)]
    );
    assert_eq!(session.expires_at(), EXPIRES + 600);
}

#[test]
fn an_older_token_never_shortens_the_connection() {
    let mut session = session();
    reauth(&mut session, "old");
    session.on_done(Done::TokenVerified(Ok(verified(alice(), EXPIRES - 60))));
    session.on_done(Done::SessionChecked(SessionCheck::Live));
    assert_eq!(session.expires_at(), EXPIRES);
}

#[test]
fn a_bad_token_is_answered_and_changes_nothing() {
    let mut session = session();
    reauth(&mut session, "forged");
    let actions = session.on_done(Done::TokenVerified(Err("InvalidSignature".into())));
    assert_eq!(error_code(&actions[0]), (Some("a"), "invalid_token"));
    assert_eq!(actions.len(), 1);
    assert_eq!(session.expires_at(), EXPIRES);
}

#[test]
fn another_users_token_is_refused_without_reading_the_accounts() {
    let mut session = session();
    reauth(&mut session, "bobs");
    let actions = session.on_done(Done::TokenVerified(Ok(verified(bob(), EXPIRES + 600))));
    assert_eq!(error_code(&actions[0]), (Some("a"), "wrong_user"));
    assert_eq!(actions.len(), 1);
}

#[test]
fn an_ended_session_or_an_unreadable_account_is_no_renewal() {
    for (check, code) in [
        (SessionCheck::Ended("logged out".into()), "invalid_token"),
        (SessionCheck::Unavailable, "database_unavailable"),
    ] {
        let mut session = session();
        reauth(&mut session, "fresh");
        session.on_done(Done::TokenVerified(Ok(verified(alice(), EXPIRES + 600))));
        let actions = session.on_done(Done::SessionChecked(check));
        assert_eq!(error_code(&actions[0]), (Some("a"), code));
        assert_eq!(session.expires_at(), EXPIRES);
    }
}

#[test]
fn an_auth_frame_without_an_id_is_renewed_silently() {
    let mut session = session();
    let actions = session.on_text(r#"{"type":"auth","token":"fresh"}"#);
    assert_eq!(actions, [Action::Io(Io::VerifyToken("fresh".into()))]);
    session.on_done(Done::TokenVerified(Ok(verified(alice(), EXPIRES + 1))));
    assert_eq!(
        session.on_done(Done::SessionChecked(SessionCheck::Live)),
        []
    );
    assert_eq!(session.expires_at(), EXPIRES + 1);
}

#[test]
fn an_expired_token_says_why_then_closes() {
    let actions = session().on_token_expired();
    assert_eq!(error_code(&actions[0]), (None, "token_expired"));
    assert!(matches!(
        actions[1],
        Action::Close {
            code: close::TOKEN_EXPIRED,
            ..
        }
    ));
}

#[test]
fn silence_closes_with_the_idle_code() {
    assert!(matches!(
        session().on_silence()[..],
        [Action::Close {
            code: close::IDLE_TIMEOUT,
            ..
        }]
    ));
}

#[test]
fn a_flood_is_paced_then_closed_and_an_accepted_frame_starts_the_count_again() {
    let mut session = session();
    let wait = Duration::from_millis(250);
    let paced = session.on_rate_limited(RefusedFrame::Text(Some("7".into())), wait);
    assert_eq!(
        paced,
        [Action::Reply(ServerFrame::Error {
            id: Some("7".into()),
            code: "rate_limited".into(),
            message: "too many frames; wait before sending again".into(),
            retry_after_ms: Some(250),
        })]
    );
    assert_eq!(session.on_rate_limited(RefusedFrame::Control, wait), []);
    session.on_control();
    assert_eq!(session.on_rate_limited(RefusedFrame::Binary, wait).len(), 1);
    assert_eq!(session.on_rate_limited(RefusedFrame::Binary, wait).len(), 1);
    assert!(matches!(
        session.on_rate_limited(RefusedFrame::Control, wait)[..],
        [Action::Close {
            code: close::TOO_MANY_REQUESTS,
            ..
        }]
    ));
}
