use super::mesh;
use crate::face::observation::{Detection, FaceObservation, HeadPose, Landmarks, LANDMARK_COUNT};
use crate::image::geometry::{Point, Rect};
use image::{Rgb, RgbImage};

/// Face-oval ellipse in face units (IOD), centred below the eye line.
const OVAL_CENTER_V: f32 = 0.45;
const OVAL_HALF_WIDTH: f32 = 1.05;
const OVAL_HALF_HEIGHT: f32 = 1.33;

/// Where and how a face is placed: eye midpoint in pixels, IOD in pixels, pose in
/// degrees (with [`HeadPose`] sign conventions).
#[derive(Debug, Clone, Copy)]
pub struct FaceSpec {
    pub eyes: (f32, f32),
    pub iod: f32,
    pub yaw: f32,
    pub pitch: f32,
    pub roll: f32,
}

impl FaceSpec {
    pub fn new(x: f32, y: f32, iod: f32) -> Self {
        Self {
            eyes: (x, y),
            iod,
            yaw: 0.0,
            pitch: 0.0,
            roll: 0.0,
        }
    }

    pub fn pose(mut self, yaw: f32, pitch: f32, roll: f32) -> Self {
        self.yaw = yaw;
        self.pitch = pitch;
        self.roll = roll;
        self
    }

    /// Face height (forehead to chin) in pixels.
    pub fn height(&self) -> f32 {
        2.0 * OVAL_HALF_HEIGHT * self.iod
    }

    /// Face coordinates (u right, v down, IOD units) → pixels, ignoring yaw and pitch.
    fn to_image(self, u: f32, v: f32) -> (f32, f32) {
        let (s, c) = self.roll.to_radians().sin_cos();
        let (x, y) = (u * c - v * s, u * s + v * c);
        (self.eyes.0 + self.iod * x, self.eyes.1 + self.iod * y)
    }

    /// Pixels → face coordinates (inverse of `to_image`).
    fn to_face(self, x: f32, y: f32) -> (f32, f32) {
        let (s, c) = self.roll.to_radians().sin_cos();
        let (dx, dy) = ((x - self.eyes.0) / self.iod, (y - self.eyes.1) / self.iod);
        (dx * c + dy * s, -dx * s + dy * c)
    }
}

/// Canonical 3-D position (u, v, depth; depth < 0 towards the camera) of the landmarks
/// the quality code reads.
fn canonical(i: usize) -> Option<[f32; 3]> {
    if let Some(k) = mesh::FACE_OVAL.iter().position(|&o| o == i) {
        let t = k as f32 / 36.0 * std::f32::consts::TAU;
        return Some([
            OVAL_HALF_WIDTH * t.sin(),
            OVAL_CENTER_V - OVAL_HALF_HEIGHT * t.cos(),
            0.0,
        ]);
    }
    let p = match i {
        33 => [-0.74, 0.0, -0.25],
        133 => [-0.26, 0.0, -0.3],
        160 => [-0.62, -0.065, -0.3],
        158 => [-0.38, -0.065, -0.3],
        153 => [-0.38, 0.065, -0.3],
        144 => [-0.62, 0.065, -0.3],
        362 => [0.26, 0.0, -0.3],
        263 => [0.74, 0.0, -0.25],
        385 => [0.38, -0.065, -0.3],
        387 => [0.62, -0.065, -0.3],
        373 => [0.62, 0.065, -0.3],
        380 => [0.38, 0.065, -0.3],
        1 => [0.0, 0.75, -0.65],
        13 => [0.0, 1.235, -0.4],
        14 => [0.0, 1.265, -0.4],
        61 => [-0.38, 1.25, -0.3],
        291 => [0.38, 1.25, -0.3],
        _ => return None,
    };
    Some(p)
}

/// The 468 landmarks of a face (those not modelled sit at the nose tip).
pub fn landmarks(spec: &FaceSpec) -> Vec<[f32; 3]> {
    let (sy, cy) = spec.yaw.to_radians().sin_cos();
    let (sp, cp) = spec.pitch.to_radians().sin_cos();
    let project = |[u, v, z]: [f32; 3]| -> [f32; 3] {
        // Yaw > 0 moves the nose (depth < 0) to the image's right.
        let (u1, z1) = (u * cy - z * sy, u * sy + z * cy);
        // Pitch > 0 moves the nose up.
        let (v2, z2) = (v * cp + z1 * sp, -v * sp + z1 * cp);
        let (x, y) = spec.to_image(u1, v2);
        [x, y, z2 * spec.iod]
    };
    let fallback = canonical(mesh::NOSE_TIP).unwrap_or([0.0; 3]);
    (0..LANDMARK_COUNT)
        .map(|i| project(canonical(i).unwrap_or(fallback)))
        .collect()
}

/// A full observation for a face (box and keypoints from the landmarks).
pub fn observation(spec: &FaceSpec) -> FaceObservation {
    let points = landmarks(spec);
    let pt = |i: usize| Point::new(points[i][0], points[i][1]);
    let mid = |a: usize, b: usize| {
        Point::new(
            0.5 * (points[a][0] + points[b][0]),
            0.5 * (points[a][1] + points[b][1]),
        )
    };
    let (mut x0, mut y0, mut x1, mut y1) = (f32::MAX, f32::MAX, f32::MIN, f32::MIN);
    for &i in &mesh::FACE_OVAL {
        x0 = x0.min(points[i][0]);
        y0 = y0.min(points[i][1]);
        x1 = x1.max(points[i][0]);
        y1 = y1.max(points[i][1]);
    }
    FaceObservation {
        detection: Detection {
            score: 0.9,
            bbox: Rect::from_corners(x0, y0, x1, y1),
            keypoints: [
                mid(33, 133),
                mid(263, 362),
                pt(1),
                mid(13, 14),
                pt(234),
                pt(454),
            ],
        },
        landmarks: Landmarks {
            points,
            presence: 0.95,
        },
        pose: HeadPose {
            yaw: spec.yaw,
            pitch: spec.pitch,
            roll: spec.roll,
        },
    }
}

/// How the frame looks.
#[derive(Debug, Clone, Copy)]
pub struct Scene {
    pub width: u32,
    pub height: u32,
    pub background: [u8; 3],
    pub skin: [u8; 3],
    /// Multiplies the face's colours (exposure of the face).
    pub face_gain: f32,
    /// Multiplies the background's colours.
    pub background_gain: f32,
    /// Light falls off across the face: factor `1 + side_gradient · u / half width`
    /// (negative: the image-right half is darker).
    pub side_gradient: f32,
    pub sunglasses: bool,
    pub mask: Option<[u8; 3]>,
    /// Gaussian blur of the whole frame, pixels.
    pub blur_sigma: f32,
}

impl Default for Scene {
    fn default() -> Self {
        Self {
            width: 480,
            height: 640,
            background: [120, 125, 130],
            skin: [200, 160, 135],
            face_gain: 1.0,
            background_gain: 1.0,
            side_gradient: 0.0,
            sunglasses: false,
            mask: None,
            blur_sigma: 0.0,
        }
    }
}

/// Deterministic pixel noise in [−1, 1] (skin texture, sensor noise).
fn noise(x: u32, y: u32) -> f32 {
    let mut h = x.wrapping_mul(374_761_393) ^ y.wrapping_mul(668_265_263);
    h = (h ^ (h >> 13)).wrapping_mul(1_274_126_177);
    ((h >> 16) & 0xff) as f32 / 127.5 - 1.0
}

fn inside_ellipse(u: f32, v: f32, cu: f32, cv: f32, a: f32, b: f32) -> bool {
    ((u - cu) / a).powi(2) + ((v - cv) / b).powi(2) <= 1.0
}

/// Colour of the face at face coordinates (before lighting), or None outside it.
fn face_colour(scene: &Scene, u: f32, v: f32) -> Option<[f32; 3]> {
    if !inside_ellipse(u, v, 0.0, OVAL_CENTER_V, OVAL_HALF_WIDTH, OVAL_HALF_HEIGHT) {
        return None;
    }
    let skin = scene.skin.map(f32::from);
    let mut c = skin;
    for e in [-0.5f32, 0.5] {
        if (-0.27..=-0.2).contains(&v) && (u - e).abs() <= 0.26 {
            c = [60.0, 45.0, 40.0];
        }
        if inside_ellipse(u, v, e, 0.0, 0.24, 0.075) {
            c = [235.0, 235.0, 235.0];
            if (u - e).powi(2) + v * v <= 0.065f32.powi(2) {
                c = [40.0, 30.0, 30.0];
            }
        }
        if inside_ellipse(u, v, e * 0.2, 0.78, 0.04, 0.03) {
            c = [70.0, 50.0, 50.0];
        }
    }
    if inside_ellipse(u, v, 0.0, 1.25, 0.38, 0.08) {
        c = if (v - 1.25).abs() < 0.012 {
            [90.0, 40.0, 45.0]
        } else {
            [175.0, 85.0, 90.0]
        };
    }
    if scene.sunglasses {
        let lens = [-0.5f32, 0.5]
            .iter()
            .any(|&e| inside_ellipse(u, v, e, 0.02, 0.36, 0.24));
        if lens || ((-0.14..=0.14).contains(&u) && (-0.04..=0.0).contains(&v)) {
            c = [22.0, 22.0, 26.0];
        }
    }
    if let Some(m) = scene.mask {
        if v >= 0.5 {
            c = m.map(f32::from);
        }
    }
    Some(c)
}

/// Renders the faces over the background.
pub fn render(scene: &Scene, faces: &[FaceSpec]) -> RgbImage {
    let mut img = RgbImage::new(scene.width, scene.height);
    for (x, y, px) in img.enumerate_pixels_mut() {
        let (fx, fy) = (x as f32 + 0.5, y as f32 + 0.5);
        let n = noise(x, y);
        let face = faces.iter().find_map(|f| {
            let (u, v) = f.to_face(fx, fy);
            face_colour(scene, u, v).map(|c| (c, u, v))
        });
        let (colour, gain, texture) = match face {
            Some((c, u, v)) => {
                let light = 1.0 + scene.side_gradient * (u / OVAL_HALF_WIDTH);
                // Lambertian fall-off towards the outline of a rounded face.
                let r2 = (u / OVAL_HALF_WIDTH).powi(2)
                    + ((v - OVAL_CENTER_V) / OVAL_HALF_HEIGHT).powi(2);
                let shading = 1.0 - 0.5 * r2;
                (c, scene.face_gain * shading * light.max(0.0), 10.0)
            }
            None => (scene.background.map(f32::from), scene.background_gain, 4.0),
        };
        *px = Rgb(colour.map(|c| (c * gain + texture * n).round().clamp(0.0, 255.0) as u8));
    }
    if scene.blur_sigma > 0.0 {
        img = image::imageops::blur(&img, scene.blur_sigma);
    }
    img
}
