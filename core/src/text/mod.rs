//! What the user reads and hears: localized messages (ids with their placeholders, as
//! data), result-screen texts and the success SMS, staff-review texts. Imports `capture`
//! and below.

pub mod ids;
pub mod messages;
pub mod result_texts;
pub mod review;
