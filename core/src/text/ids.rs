//! Message ids with their placeholders: the ids the sessions, the liveness sequencer and the
//! ID-photo check use. Modules name an id; this list (with the ones in `messages`,
//! `result_texts` and `review`) is what the message loader checks every language against.

/// "Please look at the screen and agree to the face check" (enrollment consent).
pub const ENROL_CONSENT: &str = "enrol_consent";
/// "Please take a photo of the front of your ID card".
pub const ENROL_ID_FRONT: &str = "enrol_id_front";
/// "Please take a photo of the back of your ID card".
pub const ENROL_ID_BACK: &str = "enrol_id_back";
/// "Please read the numbers 0 to 9 one by one" (voice templates; `{digits}`).
pub const ENROL_READ_ALL_DIGITS: &str = "enrol_read_all_digits";
/// "Let's read them once more, with a short pause after each number".
pub const ENROL_VOICE_RETRY: &str = "enrol_voice_retry";
/// "Your face is registered".
pub const ENROL_DONE: &str = "enrol_done";
/// The enrollment could not be finished (a staff member can help).
pub const ENROL_NOT_FINISHED: &str = "enrol_not_finished";
/// The face on the camera did not match the registered face.
pub const SESSION_FACE_NOT_CONFIRMED: &str = "session_face_not_confirmed";
/// The camera picture did not look like a live face (a photo or screen?).
pub const SESSION_NOT_LIVE: &str = "session_not_live";
/// Positioning took too long.
pub const SESSION_POSITIONING_TIMEOUT: &str = "session_positioning_timeout";

/// Message ids the sessions use, with their placeholders.
pub const SESSION_TEXT_IDS: [(&str, &[&str]); 10] = [
    (ENROL_CONSENT, &[]),
    (ENROL_ID_FRONT, &[]),
    (ENROL_ID_BACK, &[]),
    (ENROL_READ_ALL_DIGITS, &["digits"]),
    (ENROL_VOICE_RETRY, &[]),
    (ENROL_DONE, &[]),
    (ENROL_NOT_FINISHED, &[]),
    (SESSION_FACE_NOT_CONFIRMED, &[]),
    (SESSION_NOT_LIVE, &[]),
    (SESSION_POSITIONING_TIMEOUT, &[]),
];

/// Id of "please blink".
pub const ACTION_BLINK: &str = "action_blink";
/// Id of "please open your mouth wide".
pub const ACTION_OPEN_MOUTH: &str = "action_open_mouth";
/// Id of "please turn your head slowly to the left".
pub const ACTION_TURN_LEFT: &str = "action_turn_left";
/// Id of "please turn your head slowly to the right".
pub const ACTION_TURN_RIGHT: &str = "action_turn_right";
/// Id of "please nod".
pub const ACTION_NOD: &str = "action_nod";

/// The message ids of the liveness sequencer (action prompts and failure reasons), with their
/// placeholders (none). Checked by the message loader.
pub const LIVENESS_TEXT_IDS: [(&str, &[&str]); 17] = [
    (ACTION_BLINK, &[]),
    (ACTION_OPEN_MOUTH, &[]),
    (ACTION_TURN_LEFT, &[]),
    (ACTION_TURN_RIGHT, &[]),
    (ACTION_NOD, &[]),
    ("liveness_face_lost", &[]),
    ("liveness_face_moved", &[]),
    ("liveness_spoke_too_early", &[]),
    ("liveness_no_speech", &[]),
    ("liveness_no_audio", &[]),
    ("liveness_wrong_number_of_digits", &[]),
    ("liveness_digits_run_together", &[]),
    ("liveness_lips_not_moving", &[]),
    ("liveness_digit_mismatch", &[]),
    ("liveness_timeout", &[]),
    ("liveness_action_not_seen", &[]),
    ("liveness_voice_not_confirmed", &[]),
];

/// The ID-photo refusal message ids, with their placeholders (none), checked by the message
/// loader.
pub const ID_PHOTO_TEXT_IDS: [(&str, &[&str]); 5] = [
    ("id_photo_format", &[]),
    ("id_photo_too_large", &[]),
    ("id_photo_unreadable", &[]),
    ("id_photo_no_portrait", &[]),
    ("id_photo_back_has_face", &[]),
];
