//! ID-number checks for the form where a retiree (or a relative) types the number: a pure
//! function over [`lifecert_core::identity::person::IdNumber`].

use crate::error::LifecertError;
pub use lifecert_core::identity::person::IdKind;
use lifecert_core::identity::person::{Date, IdNumber};
use std::time::{SystemTime, UNIX_EPOCH};

/// Which document an ID number belongs to.
#[uniffi::remote(Enum)]
pub enum IdKind {
    /// Mainland resident identity card, 18 characters (GB 11643-1999).
    MainlandResident,
    /// Mainland resident identity card, legacy 15-digit form.
    MainlandResidentLegacy15,
    /// Residence permit for Hong Kong residents.
    HongKongResidencePermit,
    /// Residence permit for Macao residents.
    MacaoResidencePermit,
    /// Residence permit for Taiwan residents.
    TaiwanResidencePermit,
}

/// A valid ID number, as safe to show: never the full number.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct IdCheck {
    /// The number with its middle (the birth date included) masked, e.g.
    /// `110***********002X`.
    pub masked: String,
    /// The document it belongs to.
    pub kind: IdKind,
    /// The year of birth encoded in the number.
    pub birth_year: u16,
}

/// Checks an ID number as typed (surrounding spaces, lower-case `x` and full-width digits
/// are accepted): characters, length, region, birth date (not in the future by the
/// device's clock, China Standard Time) and check character.
///
/// Errors: [`LifecertError::BadInput`] saying what is wrong (never echoing the number).
#[uniffi::export]
pub fn validate_id_number(text: String) -> Result<IdCheck, LifecertError> {
    check_id_number(&text, today_in_china()?)
}

fn check_id_number(text: &str, today: Date) -> Result<IdCheck, LifecertError> {
    let id = IdNumber::parse(text, today)?;
    Ok(IdCheck {
        masked: id.masked(),
        kind: id.kind(),
        birth_year: id.birth_date().year(),
    })
}

/// Today's date in China Standard Time (UTC+8, no daylight saving), the calendar the ID
/// numbers' birth dates are written in: the device clock read here, the calendar the
/// core's ([`Date::from_unix_china`]).
fn today_in_china() -> Result<Date, LifecertError> {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_err(|_| LifecertError::internal("the device clock is before 1970"))?
        .as_secs();
    Date::from_unix_china(secs)
        .ok_or_else(|| LifecertError::internal("the device clock is out of range"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn today_is_a_date_in_china() {
        assert!(today_in_china().unwrap().year() >= 2025);
    }

    #[test]
    fn id_numbers_are_checked_and_masked() {
        let today = Date::new(2025, 6, 1).unwrap();
        let ok = check_id_number(" 11010519491231002x ", today).unwrap();
        assert_eq!(
            ok,
            IdCheck {
                masked: "110***********002X".into(),
                kind: IdKind::MainlandResident,
                birth_year: 1949,
            }
        );
        let legacy = check_id_number("110105491231002", today).unwrap();
        assert_eq!(legacy.kind, IdKind::MainlandResidentLegacy15);
        assert_eq!(legacy.birth_year, 1949);
        assert_eq!(legacy.masked, "110*********002");

        for bad in [
            "",
            "110105194912310021",
            "1101051949123100",
            "11010519491231002Y",
        ] {
            match check_id_number(bad, today) {
                Err(LifecertError::BadInput { reason }) => {
                    assert!(reason.starts_with("invalid ID number"), "{reason}");
                    assert!(
                        !reason.contains("1949"),
                        "the number is not echoed: {reason}"
                    );
                }
                other => panic!("{bad:?}: expected BadInput, got {other:?}"),
            }
        }
    }
}
