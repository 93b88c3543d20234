//! Drawing analysis results on a picture so a person can check them by eye (primitives in
//! [`crate::draw`]).

use crate::draw::{dot, draw_text, line, wrap};
use image::{Rgb, RgbImage};
use lifecert_core::face::landmarks::contours::{FACE_OVAL, LEFT_EYE, LIPS_OUTER, RIGHT_EYE};
use lifecert_core::face::observation::FaceObservation;
use lifecert_core::image::geometry::Point;

/// Colour of face boxes (green).
pub const BOX: Rgb<u8> = Rgb([0, 220, 0]);
const KEYPOINT: Rgb<u8> = Rgb([255, 40, 40]);
/// Colour of landmark (mesh) points (light blue).
pub const MESH: Rgb<u8> = Rgb([0, 200, 255]);
const CONTOUR: Rgb<u8> = Rgb([255, 255, 255]);
const AXIS_X: Rgb<u8> = Rgb([255, 0, 0]);
const AXIS_Y: Rgb<u8> = Rgb([0, 255, 0]);
const AXIS_Z: Rgb<u8> = Rgb([0, 0, 255]);

fn polyline(img: &mut RgbImage, face: &FaceObservation, idx: &[usize], c: Rgb<u8>, t: i64) {
    for (i, &a) in idx.iter().enumerate() {
        let b = idx[(i + 1) % idx.len()];
        line(img, face.landmarks.point(a), face.landmarks.point(b), c, t);
    }
}

/// Draws box, keypoints, mesh points, contours and a head-pose axis for each face.
pub fn draw_faces(img: &mut RgbImage, faces: &[FaceObservation]) {
    let scale = (img.width().max(img.height()) as f32 / 640.0).max(1.0);
    let t = scale.round() as i64;
    for face in faces {
        let b = face.detection.bbox;
        let corners = [
            Point::new(b.x, b.y),
            Point::new(b.right(), b.y),
            Point::new(b.right(), b.bottom()),
            Point::new(b.x, b.bottom()),
        ];
        for i in 0..4 {
            line(img, corners[i], corners[(i + 1) % 4], BOX, t + 1);
        }
        for i in 0..face.landmarks.points.len() {
            dot(img, face.landmarks.point(i), (t / 2).max(1), MESH);
        }
        polyline(img, face, &FACE_OVAL, CONTOUR, t);
        polyline(img, face, &RIGHT_EYE, CONTOUR, t);
        polyline(img, face, &LEFT_EYE, CONTOUR, t);
        polyline(img, face, &LIPS_OUTER, CONTOUR, t);
        for kp in face.detection.keypoints {
            dot(img, kp, 2 * t + 1, KEYPOINT);
        }
        draw_pose_axis(img, face, t);
    }
}

/// Draws the head's x (red, towards the subject's left), y (green, up) and z (blue, out of
/// the face) axes from the nose tip, projected orthographically.
fn draw_pose_axis(img: &mut RgbImage, face: &FaceObservation, t: i64) {
    let (yaw, pitch, roll) = (
        face.pose.yaw.to_radians(),
        face.pose.pitch.to_radians(),
        face.pose.roll.to_radians(),
    );
    let len = face.detection.bbox.width * 0.6;
    let nose = face.landmarks.point(1);
    // Rotation R = Rz(−roll)·Rx(−pitch)·Ry(yaw) in a y-up frame, projected to y-down pixels.
    let (sy, cy) = yaw.sin_cos();
    let (sp, cp) = (-pitch).sin_cos();
    let (sr, cr) = (-roll).sin_cos();
    let ry = |v: [f32; 3]| [cy * v[0] + sy * v[2], v[1], -sy * v[0] + cy * v[2]];
    let rx = |v: [f32; 3]| [v[0], cp * v[1] - sp * v[2], sp * v[1] + cp * v[2]];
    let rz = |v: [f32; 3]| [cr * v[0] - sr * v[1], sr * v[0] + cr * v[1], v[2]];
    for (axis, colour) in [
        ([1.0, 0.0, 0.0], AXIS_X),
        ([0.0, 1.0, 0.0], AXIS_Y),
        ([0.0, 0.0, 1.0], AXIS_Z),
    ] {
        let v = rz(rx(ry(axis)));
        let tip = Point::new(nose.x + v[0] * len, nose.y - v[1] * len);
        line(img, nose, tip, colour, t + 1);
    }
}

/// Draws the guide oval the shell shows (dashed white ellipse).
pub fn draw_guide_oval(img: &mut RgbImage, guide: &lifecert_core::capture::quality::GuideOval) {
    let (centre, rx, ry) = guide.in_pixels(img.width(), img.height());
    let t = (img.width().max(img.height()) as f32 / 640.0)
        .max(1.0)
        .round() as i64;
    let steps = 180;
    for i in 0..steps {
        if i % 6 >= 4 {
            continue; // dashes
        }
        let a0 = i as f32 / steps as f32 * std::f32::consts::TAU;
        let a1 = (i + 1) as f32 / steps as f32 * std::f32::consts::TAU;
        let p0 = Point::new(centre.x + rx * a0.cos(), centre.y + ry * a0.sin());
        let p1 = Point::new(centre.x + rx * a1.cos(), centre.y + ry * a1.sin());
        line(img, p0, p1, Rgb([255, 255, 255]), t + 1);
    }
}

/// Writes the instruction (English text and its stable id) on a band at the top.
pub fn draw_instruction(
    img: &mut RgbImage,
    instruction: lifecert_core::capture::guidance::Instruction,
    ready: bool,
) {
    let messages = lifecert_core::text::messages::Messages::builtin();
    let text = format!(
        "[{}] {}",
        instruction.id(),
        messages.instruction(instruction, lifecert_core::text::messages::Language::En)
    );
    let scale = ((img.width() as f32 / 640.0).max(1.0) * 2.0).round() as u32;
    let per_line = ((img.width().saturating_sub(8)) / (8 * scale)).max(1) as usize;
    let lines = wrap(&text, per_line);
    let line_height = 8 * scale + 4;
    let band = line_height * lines.len() as u32 + 6;
    let bg = if ready {
        Rgb([0, 110, 0])
    } else {
        Rgb([150, 70, 0])
    };
    for y in 0..band.min(img.height()) {
        for x in 0..img.width() {
            img.put_pixel(x, y, bg);
        }
    }
    for (i, line) in lines.iter().enumerate() {
        draw_text(
            img,
            4,
            4 + i as u32 * line_height,
            line,
            scale,
            Rgb([255, 255, 255]),
        );
    }
}
