//! Head pose on real photos: in-plane rotation moves roll by the same angle, mirroring flips
//! yaw, and the labelled head-pose photos give the labelled signs.

mod common;

use common::{analyzer, astronaut, eval_data, rotate};
use image::RgbImage;
use lifecert_core::image::decode::load_image;
use lifecert_core::HeadPose;

fn only_pose(img: &RgbImage) -> HeadPose {
    let faces = analyzer().analyze_image(img).unwrap();
    assert_eq!(faces.len(), 1, "expected one face, got {}", faces.len());
    faces[0].pose
}

#[test]
fn in_plane_rotation_changes_roll_by_the_same_angle() {
    let img = astronaut();
    let base = only_pose(&img);
    for theta in [-20.0f32, -10.0, 10.0, 20.0] {
        let pose = only_pose(&rotate(&img, theta));
        let change = pose.roll - base.roll;
        assert!(
            (change - theta).abs() < 2.0,
            "rotated by {theta}°: roll {} → {} (change {change})",
            base.roll,
            pose.roll
        );
    }
}

/// A mirrored copy must give the opposite yaw and roll, the same magnitude within 2°.
/// (Pitch is not compared: on the 50°-profile photo it moves by ≈ 6° between the copies.)
fn assert_mirror_flips_yaw(name: &str, img: &RgbImage) -> HeadPose {
    let base = only_pose(img);
    let mirrored = only_pose(&image::imageops::flip_horizontal(img));
    eprintln!("{name}: {base:?} mirrored {mirrored:?}");
    assert!(
        (base.yaw + mirrored.yaw).abs() < 2.0,
        "{name}: {base:?} vs {mirrored:?}"
    );
    assert!(
        (base.roll + mirrored.roll).abs() < 2.0,
        "{name}: {base:?} vs {mirrored:?}"
    );
    base
}

#[test]
fn mirroring_flips_the_sign_of_yaw() {
    assert_mirror_flips_yaw("astronaut", &astronaut());
    let Some(data) = eval_data("mirroring_flips_the_sign_of_yaw (turned faces)") else {
        return;
    };
    // Faces turned clearly to one side, so that the sign flip is meaningful.
    for name in ["insightface_left_face.jpeg", "insightface_right_face.png"] {
        let img = load_image(&data.join("hard_cases/head_pose").join(name)).unwrap();
        let pose = assert_mirror_flips_yaw(name, &img);
        assert!(pose.yaw.abs() > 10.0, "{name}: {pose:?}");
    }
}

#[test]
fn labelled_head_pose_photos_give_the_labelled_sign() {
    let Some(data) = eval_data("labelled_head_pose_photos_give_the_labelled_sign") else {
        return;
    };
    let dir = data.join("hard_cases/head_pose");
    let pose = |name: &str| only_pose(&load_image(&dir.join(name)).unwrap());
    // "left"/"right" in these insightface file names name the side of the image the nose
    // points to (looked at by eye: in `right_face` the nose points at the image's right edge),
    // which is yaw > 0 in our convention.
    let left = pose("insightface_left_face.jpeg");
    let right = pose("insightface_right_face.png");
    let rise = pose("insightface_rise_face.jpeg");
    let lower = pose("insightface_lower_face.jpeg");
    eprintln!("left {left:?}\nright {right:?}\nrise {rise:?}\nlower {lower:?}");
    assert!(left.yaw < -10.0, "left {left:?}");
    assert!(right.yaw > 10.0, "right {right:?}");
    assert!(rise.pitch > 5.0, "rise {rise:?}");
    assert!(lower.pitch < -5.0, "lower {lower:?}");
}
