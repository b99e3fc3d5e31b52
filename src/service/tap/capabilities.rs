//! /tap/capabilities: VOSI 1.1 capabilities (section 3.3) with the TAPRegExt 1.0
//! `tr:TableAccess` capability. Languages, features, output formats, limits and user-defined
//! functions are rendered from the code and configuration that implement them, so the
//! document cannot promise what the service does not do.

use actix_web::HttpResponse;

use crate::service::State;
use crate::votable::Format;
use crate::xml::escape;

const TAPREGEXT: &str = "ivo://ivoa.net/std/TAPRegExt";

/// ADQL 2.1 geometry functions we implement (section 4.2; REGION is not offered).
const GEOMETRY: &[&str] = &["POINT", "CIRCLE", "BOX", "POLYGON", "CENTROID", "AREA", "COORD1", "COORD2", "COORDSYS", "CONTAINS", "INTERSECTS", "DISTANCE"];

/// ADQL 2.1 optional features (section 4) we implement: (feature type, form, description).
const OPTIONAL: &[(&str, &str, &str)] = &[
    ("#features-adql-string", "LOWER", "Converts a string to lower case."),
    ("#features-adql-string", "UPPER", "Converts a string to upper case."),
    ("#features-adql-string", "ILIKE", "Case-insensitive LIKE."),
    ("#features-adql-common-table", "WITH", "Common table expressions (not recursive)."),
    ("#features-adql-sets", "UNION", "Union of two query results (UNION ALL keeps duplicates)."),
    ("#features-adql-sets", "EXCEPT", "Rows of the first result that are not in the second."),
    ("#features-adql-sets", "INTERSECT", "Rows common to two query results."),
    ("#features-adql-type", "CAST", "CAST(value AS type) to INTEGER, SMALLINT, BIGINT, REAL, DOUBLE PRECISION, CHAR(n), VARCHAR(n), TIMESTAMP."),
    ("#features-adql-unit", "IN_UNIT", "Converts a numeric column to another VOUnit, e.g. IN_UNIT(ra, 'arcsec')."),
    ("#features-adql-offset", "OFFSET", "Skips the first n rows of the result."),
];
// COALESCE (ADQL 2.1 section 4.8, feature type #features-adql-conditional) is implemented
// but not declared: the STILTS taplint of Debian 12 (3.4) predates that feature type and
// reports its declaration as an error. Declare it once the validators know it.

pub async fn capabilities(state: State) -> HttpResponse {
    let base = escape(state.config.base_url()).into_owned();
    let limits = &state.config.limits;
    let mut features = String::new();
    let feature = |out: &mut String, form: &str, description: &str| {
        out.push_str(&format!("        <feature><form>{}</form><description>{}</description></feature>\n", escape(form), escape(description)));
    };
    features.push_str(&format!("      <languageFeatures type=\"{TAPREGEXT}#features-udf\">\n"));
    for function in state.functions.iter() {
        feature(&mut features, function.form, function.description);
    }
    features.push_str("      </languageFeatures>\n");
    features.push_str(&format!("      <languageFeatures type=\"{TAPREGEXT}#features-adqlgeo\">\n"));
    for form in GEOMETRY {
        features.push_str(&format!("        <feature><form>{form}</form></feature>\n"));
    }
    features.push_str("      </languageFeatures>\n");
    let mut types: Vec<&str> = OPTIONAL.iter().map(|(t, _, _)| *t).collect();
    types.dedup();
    for kind in types {
        features.push_str(&format!("      <languageFeatures type=\"{TAPREGEXT}{kind}\">\n"));
        for (_, form, description) in OPTIONAL.iter().filter(|(t, _, _)| *t == kind) {
            feature(&mut features, form, description);
        }
        features.push_str("      </languageFeatures>\n");
    }

    let mut formats = String::new();
    for format in Format::ALL {
        let names = format.names();
        let ivo_id = match format {
            Format::VotableTabledata => format!(" ivo-id=\"{TAPREGEXT}#output-votable-td\""),
            Format::VotableBinary => format!(" ivo-id=\"{TAPREGEXT}#output-votable-binary\""),
            Format::VotableBinary2 => format!(" ivo-id=\"{TAPREGEXT}#output-votable-binary2\""),
            Format::Csv | Format::Tsv => String::new(),
        };
        formats.push_str(&format!("    <outputFormat{ivo_id}>\n      <mime>{}</mime>\n", escape(names.first().copied().unwrap_or(format.mime_type()))));
        for alias in names.iter().skip(1) {
            formats.push_str(&format!("      <alias>{}</alias>\n", escape(alias)));
        }
        formats.push_str("    </outputFormat>\n");
    }

    let retention = limits.destruction_days * 86400;
    let vosi = |standard: &str, path: &str| {
        format!(
            "  <capability standardID=\"{standard}\">\n    <interface xsi:type=\"vs:ParamHTTP\">\n      <accessURL use=\"full\">{base}{path}</accessURL>\n    </interface>\n  </capability>\n"
        )
    };
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
<vosi:capabilities xmlns:vosi=\"http://www.ivoa.net/xml/VOSICapabilities/v1.0\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xmlns:vr=\"http://www.ivoa.net/xml/VOResource/v1.0\" xmlns:vs=\"http://www.ivoa.net/xml/VODataService/v1.1\" xmlns:tr=\"http://www.ivoa.net/xml/TAPRegExt/v1.0\">\n\
  <capability standardID=\"ivo://ivoa.net/std/TAP\" xsi:type=\"tr:TableAccess\">\n\
    <interface xsi:type=\"vs:ParamHTTP\" role=\"std\" version=\"1.1\">\n\
      <accessURL use=\"base\">{base}/tap</accessURL>\n\
    </interface>\n\
    <language>\n\
      <name>ADQL</name>\n\
      <version ivo-id=\"ivo://ivoa.net/std/ADQL#v2.1\">2.1</version>\n\
      <version ivo-id=\"ivo://ivoa.net/std/ADQL#v2.0\">2.0</version>\n\
      <description>ADQL 2.1 (and 2.0), translated to PostgreSQL with q3c positional indexing.</description>\n\
{features}\
    </language>\n\
{formats}\
    <uploadMethod ivo-id=\"{TAPREGEXT}#upload-inline\"/>\n\
{upload_http}\
    <retentionPeriod>\n      <default>{retention}</default>\n      <hard>{retention}</hard>\n    </retentionPeriod>\n\
    <executionDuration>\n      <default>{duration}</default>\n      <hard>{duration_hard}</hard>\n    </executionDuration>\n\
    <outputLimit>\n      <default unit=\"row\">{maxrec}</default>\n      <hard unit=\"row\">{maxrec_hard}</hard>\n    </outputLimit>\n\
    <uploadLimit>\n      <hard unit=\"byte\">{upload_bytes}</hard>\n    </uploadLimit>\n\
  </capability>\n\
{capabilities}{availability}{tables}{examples}\
</vosi:capabilities>\n",
        duration = limits.execution_duration_default_s,
        duration_hard = limits.execution_duration_max_s,
        maxrec = limits.maxrec_default,
        maxrec_hard = limits.maxrec_hard,
        upload_bytes = limits.upload_max_bytes,
        upload_http = if limits.upload_urls == crate::config::UploadUrls::Off {
            String::new()
        } else {
            format!("    <uploadMethod ivo-id=\"{TAPREGEXT}#upload-http\"/>\n")
        },
        capabilities = vosi("ivo://ivoa.net/std/VOSI#capabilities", "/tap/capabilities"),
        availability = vosi("ivo://ivoa.net/std/VOSI#availability", "/tap/availability"),
        tables = vosi("ivo://ivoa.net/std/VOSI#tables-1.1", "/tap/tables"),
        // DALI 1.1 section 2.3: declared with a browser interface.
        examples = format!(
            "  <capability standardID=\"ivo://ivoa.net/std/DALI#examples\">\n    <interface xsi:type=\"vr:WebBrowser\">\n      <accessURL use=\"full\">{base}/tap/examples</accessURL>\n    </interface>\n  </capability>\n"
        ),
    );
    HttpResponse::Ok().content_type("text/xml; charset=utf-8").body(body)
}
