//! Diagnostics for tuning the detector against the simulator's truth (all #[ignore]d; run
//! with --ignored --nocapture): the misses and false detections of one plate with what the
//! detector saw there, the fates of all candidate red borders, and one thresholded region.
//! DFBS_SEED, DFBS_SEEDS, DFBS_SIZE, DFBS_MAXMAG, DFBS_MIX=balanced, DFBS_X, DFBS_Y choose.

use super::*;

/// Lists the missed truth objects and the unmatched detections of one plate with what the
/// detector saw there (run with --ignored --nocapture; DFBS_SEED and DFBS_SIZE choose the plate).
#[test]
#[ignore]
fn diagnose_misses() {
    use crate::pipeline::detect::image::BandImage;
    use crate::pipeline::detect::trace::find_traces_logged;
    let seed: u64 = std::env::var("DFBS_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(1);
    let size: usize = std::env::var("DFBS_SIZE").ok().and_then(|s| s.parse().ok()).unwrap_or(1024);
    let mix = if std::env::var("DFBS_MIX").as_deref() == Ok("balanced") { Mix::Balanced } else { Mix::Realistic };
    let sim = SimPlate::with_mix((size, size), seed, RedEnd::PlusY, mix);
    let params = sim.params();
    let detections = detect_and_extract(&mut sim.source(), &params).unwrap();
    let e = Evaluation::of(&sim, &detections);
    println!("{}", e.table());
    let band = BandImage::prepare(sim.pixels.clone(), sim.plate.width, 0, sim.plate.height, &params).unwrap();
    let boxes = crate::pipeline::detect::candidate_boxes(&band, &params);
    let radius = match_radius_px();
    let matched = |o: &SimObject| detections.iter().any(|d| (d.x - o.x).hypot(d.y - o.y) < radius);
    for o in &sim.objects {
        let max_mag: f64 = std::env::var("DFBS_MAXMAG").ok().and_then(|s| s.parse().ok()).unwrap_or(sim.plate.limiting_mag);
        if o.bbox.is_none() || o.clipped || o.mag_b > sim.plate.limiting_mag.min(max_mag) || matched(o) {
            continue;
        }
        let y690_row = o.y - 1.0 + 8.0;
        println!(
            "MISSED #{} B {:.2} {} x {:.1} y {:.1} (690 at row {:.1}) bbox {:?} overlaps {} sigma_x {:.2}",
            o.number, o.mag_b, o.template.class.label(), o.x, o.y, y690_row, o.bbox.unwrap(), o.overlaps, o.sigma_x
        );
        for d in detections.iter().filter(|d| (d.x - o.x).abs() < 6.0 && (d.y - o.y).abs() < 40.0) {
            println!("   nearby detection x {:.2} y {:.2} snr {:.1}", d.x, d.y, d.snr);
        }
        for b in boxes.iter().filter(|b| (o.x - 1.0) >= b.c0 as f64 - 8.0 && (o.x - 1.0) <= b.c1 as f64 + 8.0 && y690_row >= b.r0 as f64 - 30.0 && y690_row <= b.r1 as f64 + 30.0) {
            let mut log = Vec::new();
            find_traces_logged(&band, b, &params, 1.0, Some(&mut log));
            for line in log {
                println!("   {line}");
            }
        }
    }
    let mut per_class = std::collections::BTreeMap::new();
    for o in sim.objects.iter().filter(|o| o.bbox.is_some() && !o.clipped && o.mag_b <= 17.5) {
        let entry = per_class.entry(o.template.class.label()).or_insert((0, 0));
        entry.0 += 1;
        entry.1 += matched(o) as usize;
    }
    println!("B<=17.5 per class (truth, found): {per_class:?}");
    for d in &detections {
        let near = sim.objects.iter().filter(|o| (o.x - d.x).hypot(o.y - d.y) < 3.0).count();
        if near == 0 {
            println!("UNMATCHED detection x {:.2} y {:.2} red border {:.1} snr {:.1} length {} bbox {:?}", d.x, d.y, d.red_border_y, d.snr, d.length_px, d.bbox);
            for o in sim.objects.iter().filter(|o| (o.x - d.x).abs() < 6.0 && (o.y - d.y).abs() < 160.0) {
                println!("   truth #{} B {:.2} {} x {:.2} y {:.2} bbox {:?}", o.number, o.mag_b, o.template.class.label(), o.x, o.y, o.bbox);
            }
            for b in boxes.iter().filter(|b| (d.x - 1.0) >= b.c0 as f64 - 2.0 && (d.x - 1.0) <= b.c1 as f64 + 2.0 && d.red_border_y - 1.0 >= b.r0 as f64 - 40.0 && d.red_border_y - 1.0 <= b.r1 as f64 + 40.0) {
                let mut log = Vec::new();
                find_traces_logged(&band, b, &params, 1.0, Some(&mut log));
                for line in log {
                    println!("   {line}");
                }
            }
            for f in sim.defects.iter().filter(|f| { let b = f.bbox(); d.x >= b[0] as f64 - 5.0 && d.x <= b[2] as f64 + 5.0 && d.y >= b[1] as f64 - 30.0 && d.y <= b[3] as f64 + 30.0 }) {
                println!("   defect {:?} {:?}", f.kind, f.bbox());
            }
        }
    }
}

/// Fates of all candidate red borders of a plate: true borders (a truth object's 690 nm point
/// within 2 rows and 2 columns) against false ones, per reason (run with --ignored --nocapture).
#[test]
#[ignore]
fn border_fates() {
    use crate::pipeline::detect::image::BandImage;
    use crate::pipeline::detect::trace::find_traces_logged;
    use std::collections::BTreeMap;
    let seeds = dev_seeds([1, 2]);
    let mix = if std::env::var("DFBS_MIX").as_deref() == Ok("balanced") { Mix::Balanced } else { Mix::Realistic };
    let mut fates: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for seed in seeds {
        let sim = SimPlate::with_mix((2048, 2048), seed, RedEnd::PlusY, mix);
        let params = sim.params();
        let band = BandImage::prepare(sim.pixels.clone(), sim.plate.width, 0, sim.plate.height, &params).unwrap();
        for b in crate::pipeline::detect::candidate_boxes(&band, &params) {
            let mut log = Vec::new();
            find_traces_logged(&band, &b, &params, 1.0, Some(&mut log));
            for line in log {
                let Some(rest) = line.strip_prefix("row ") else { continue };
                let mut words = rest.split_whitespace();
                let row: f64 = words.next().and_then(|w| w.parse().ok()).unwrap_or(-1e9);
                let col: f64 = words.nth(1).and_then(|w| w.trim_end_matches(':').parse().ok()).unwrap_or(-1e9);
                let text = rest.split(": ").nth(1).unwrap_or("");
                let mut reason: String = text.split(|c: char| c.is_ascii_digit() || c == '-').next().unwrap_or("").trim().to_string();
                if reason == "secondary sharpness" {
                    let sharp: f64 = text.split_whitespace().nth(2).and_then(|w| w.trim_end_matches(',').parse().ok()).unwrap_or(-9.0);
                    reason = format!("secondary sharpness {:.1}", (sharp * 10.0).floor() / 10.0);
                }
                if reason == "step" {
                    let sigma: f64 = text.split_whitespace().nth(1).and_then(|w| w.parse().ok()).unwrap_or(-9.0);
                    reason = format!("step {:.1} sigma", (sigma * 2.0).floor() / 2.0);
                }
                if reason == "core" {
                    // core N, tail T, knot K: bucket the core and whether the tail was there.
                    let numbers: Vec<f64> = text.split([',', ' ']).filter_map(|w| w.parse().ok()).collect();
                    if let [core, tail, ..] = numbers[..] {
                        reason = format!("core {core:>2} tail {}", if tail > 0.0 { "+" } else { "-" });
                    }
                }
                let truth = sim.objects.iter().any(|o| {
                    o.bbox.is_some() && (o.y - 1.0 + 8.0 - row).abs() <= 2.0 && (o.x - 1.0 - col).abs() <= 2.0
                });
                if !truth && reason.starts_with("accepted") && std::env::var("DFBS_SHOW").is_ok() {
                    let nearest = sim.objects.iter().map(|o| ((o.x - 1.0 - col).abs() + (o.y - 1.0 + 8.0 - row).abs(), o)).min_by(|a, b| a.0.total_cmp(&b.0));
                    let defect = sim.defects.iter().find(|f| { let bb = f.bbox(); col + 1.0 >= bb[0] as f64 - 2.0 && col + 1.0 <= bb[2] as f64 + 2.0 && row + 1.0 >= bb[1] as f64 - 4.0 && row + 1.0 <= bb[3] as f64 + 4.0 });
                    println!("FALSE {line} | nearest truth {:?} | defect {:?}", nearest.map(|(d, o)| (d, o.mag_b, o.template.class.label(), o.x - 1.0, o.y + 7.0, o.bbox.is_some())), defect.map(|f| (f.kind, f.bbox())));
                }
                let entry = fates.entry(reason).or_insert((0, 0));
                if truth { entry.0 += 1 } else { entry.1 += 1 }
            }
        }
    }
    println!("reason: (true borders, false borders)");
    for (reason, (t, f)) in fates {
        println!("{reason:<40} {t:>6} {f:>6}");
    }
}

/// Prints the thresholded region at DFBS_X, DFBS_Y (band = whole plate) with its column
/// profile and the boxes made of it (run with --ignored --nocapture).
#[test]
#[ignore]
fn diagnose_region() {
    use crate::pipeline::detect::image::BandImage;
    let number = |name: &str, default: usize| std::env::var(name).ok().and_then(|s| s.parse().ok()).unwrap_or(default);
    let (seed, x, y) = (number("DFBS_SEED", 1) as u64, number("DFBS_X", 100), number("DFBS_Y", 100));
    let sim = SimPlate::new((2048, 2048), seed, RedEnd::PlusY);
    let params = sim.params();
    let band = BandImage::prepare(sim.pixels.clone(), sim.plate.width, 0, sim.plate.height, &params).unwrap();
    let blurred = band.blurred(&params);
    let (mask, excess, sigma) = band.threshold(&blurred, &params);
    for region in crate::pipeline::detect::contour::regions(&mask, band.width, band.rows, 1) {
        let [c0, r0, c1, r1] = region.bbox;
        if c0 <= x + 3 && x <= c1 + 3 && r0 <= y && y <= r1 {
            println!("region {:?} area {} perimeter {}", region.bbox, region.area, region.perimeter);
            for b in crate::pipeline::detect::boxes_of_region(&region, &blurred, &excess, sigma, band.width, &params) {
                println!("  box {b:?}");
            }
        }
    }
    for f in sim.defects.iter().filter(|f| { let b = f.bbox(); b[0] - 20 <= x as i64 && x as i64 <= b[2] + 20 && b[1] - 60 <= y as i64 && y as i64 <= b[3] + 60 }) {
        println!("defect {:?} {:?}", f.kind, f.bbox());
    }
}

/// The traces the deblending adds, true or false, with what tells them apart (run with
/// --ignored --nocapture; DFBS_SEEDS chooses the 2048² plates).
#[test]
#[ignore]
fn deblended_traces() {
    use crate::pipeline::detect::deblend::deblend;
    use crate::pipeline::detect::image::BandImage;
    use crate::pipeline::detect::trace::find_traces;
    let seeds = dev_seeds([1, 2]);
    for seed in seeds {
        let sim = SimPlate::with_mix((2048, 2048), seed, RedEnd::PlusY, Mix::Realistic);
        let params = sim.params();
        let band = BandImage::prepare(sim.pixels.clone(), sim.plate.width, 0, sim.plate.height, &params).unwrap();
        for b in crate::pipeline::detect::candidate_boxes(&band, &params) {
            let found = find_traces(&band, &b, &params, 1.0);
            let mut all = found.clone();
            deblend(&band, &b, &mut all, &params);
            for t in all.iter().filter(|t| !found.contains(t)) {
                let near = |o: &SimObject, x: f64, y690: f64| (o.y - 1.0 + 8.0 - y690).hypot(o.x - 1.0 - x) <= 1.95;
                let truth = sim.objects.iter().find(|o| o.bbox.is_some() && near(o, t.x, t.y690));
                let parent = found.iter().max_by(|p, q| p.step.total_cmp(&q.step)).unwrap();
                let fate = match truth {
                    None => "FALSE",
                    Some(o) if found.iter().any(|f| near(o, f.x, f.y690)) => "DUP  ",
                    Some(_) => "NEW  ",
                };
                println!(
                    "DEBLEND {fate} seed {seed} x {:.1} y {:.1} snr {:.1} core {:.0} step {:.4} sx {:.2} | parent dx {:+.2} dy {:+.1} step ratio {:.1} snr {:.0} core {:.0} | {}",
                    t.x, t.y690, t.step_snr, t.core_length, t.step, t.sigma_x,
                    t.x - parent.x, t.y690 - parent.y690, parent.step / t.step, parent.step_snr, parent.core_length,
                    truth.map(|o| format!("{} B {:.2}", o.template.class.label(), o.mag_b)).unwrap_or_default()
                );
            }
        }
    }
}

/// The boxes of a FITS plate (DFBS_FITS) near DFBS_X, DFBS_Y (FITS pixels) with what the search
/// and the deblending saw there (run with --ignored --nocapture).
#[test]
#[ignore]
fn deblend_at_fits() {
    use crate::pipeline::detect::deblend::deblend;
    use crate::pipeline::detect::image::BandImage;
    use crate::pipeline::detect::trace::find_traces_logged;
    let number = |name: &str| -> f64 { std::env::var(name).ok().and_then(|s| s.parse().ok()).unwrap_or(0.0) };
    let path = std::env::var("DFBS_FITS").expect("DFBS_FITS");
    let (x, y) = (number("DFBS_X"), number("DFBS_Y"));
    let mut scan = crate::pipeline::fits::PlateScan::open(std::path::Path::new(&path)).unwrap();
    let params = crate::pipeline::plate::params_for(&scan.header, &PipelineParams::default());
    let plan = crate::pipeline::detect::plan_bands(scan.height, &params);
    let band_plan = plan.iter().find(|p| (p.core.0..p.core.1).contains(&(y as usize).saturating_sub(1))).expect("DFBS_Y lies on the plate");
    let (first, rows) = (band_plan.read.0, band_plan.read.1 - band_plan.read.0);
    let mut values = Vec::new();
    scan.read_rows(first, rows, &mut values).unwrap();
    let band = BandImage::prepare(values, scan.width, first, scan.height, &params).unwrap();
    for b in crate::pipeline::detect::candidate_boxes(&band, &params) {
        let (bx, by) = (x - 1.0, y - 1.0 - first as f64);
        if bx < b.c0 as f64 - 8.0 || bx > b.c1 as f64 + 8.0 || by < b.r0 as f64 - 30.0 || by > b.r1 as f64 + 30.0 {
            continue;
        }
        let mut log = Vec::new();
        let found = find_traces_logged(&band, &b, &params, 1.0, Some(&mut log));
        for line in log {
            println!("   {line}");
        }
        for t in &found {
            println!("FOUND x {:.2} y690 {:.2} snr {:.1} core {} step {:.4}", t.x + 1.0, t.y690 + first as f64 + 1.0, t.step_snr, t.core_length, t.step);
        }
        let mut all = found.clone();
        deblend(&band, &b, &mut all, &params);
        for t in all.iter().filter(|t| !found.contains(t)) {
            println!("HIDDEN x {:.2} y690 {:.2} snr {:.1} core {} step {:.4} sx {:.2}", t.x + 1.0, t.y690 + first as f64 + 1.0, t.step_snr, t.core_length, t.step, t.sigma_x);
        }
    }
}
