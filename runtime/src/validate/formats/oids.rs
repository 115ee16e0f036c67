//! Object identifiers the French rules compare against. Each carries where it is defined so
//! a reviewer can check it against the source rather than trusting this file.

/// Assigning authority of INS-NIR (production) — also the authority of the beneficiary's NIR
/// typed NH. IHE France data types 1.8.2, pages 7-8 (OID table) and page 9 (CX-4).
pub const INS_NIR: &str = "1.2.250.1.213.1.4.8";
/// Assigning authority of INS-NIA (provisional "numéro d'identification d'attente").
/// IHE France data types 1.8.2, pages 7-8 and page 9 (CX-4).
pub const INS_NIA: &str = "1.2.250.1.213.1.4.9";
/// Assigning authority of INS-NIR from test cards. IHE France data types 1.8.2, page 8.
pub const INS_NIR_TEST: &str = "1.2.250.1.213.1.4.10";
/// Assigning authority of INS-NIR from demonstration cards. IHE France data types 1.8.2, page 8.
pub const INS_NIR_DEMO: &str = "1.2.250.1.213.1.4.11";

/// INS-C computed from production Vitale cards. IHE France data types 1.8.2, page 7.
pub const INS_C: &str = "1.2.250.1.213.1.4.2";
/// INS-C computed from test Vitale cards. IHE France data types 1.8.2, page 7.
pub const INS_C_TEST: &str = "1.2.250.1.213.1.4.6";
/// INS-C computed from demonstration Vitale cards. IHE France data types 1.8.2, page 7.
pub const INS_C_DEMO: &str = "1.2.250.1.213.1.4.7";

/// CNOP, authority of the NDP (pharmaceutical record patient id). IHE France data types
/// 1.8.2, page 7 (NDP row) and page 8 (example).
pub const CNOP_NDP: &str = "1.2.250.1.176.1.2";

/// ASIP-SANTE-PS: national identifiers of health professionals (IDNPS, RPPS, ADELI).
/// IHE France data types 1.8.2, page 29 (XCN table and examples).
pub const ASIP_SANTE_PS: &str = "1.2.250.1.71.4.2.1";
/// ASIP-SANTE-ST: national identifiers of organisations (IDNST, FINESS, SIRET…).
/// IHE France data types 1.8.2, pages 33-34 (XON table and examples).
pub const ASIP_SANTE_ST: &str = "1.2.250.1.71.4.2.2";

/// LOINC code system. HL7 registry OID; used as the coding system of IPC-2/IPC-4 in the
/// teleradiology guide's examples (input/pagecontent/exemples.md, flow 5).
pub const LOINC: &str = "2.16.840.1.113883.6.1";

/// Authorities whose CX-1 is a NIR with its key (production, test and demonstration).
pub const NIR_AUTHORITIES: [&str; 3] = [INS_NIR, INS_NIR_TEST, INS_NIR_DEMO];
/// Authorities valid for an identifier typed INS (CX-5 = INS). IHE France data types 1.8.2,
/// pages 7-9.
pub const INS_AUTHORITIES: [&str; 4] = [INS_NIR, INS_NIA, INS_NIR_TEST, INS_NIR_DEMO];
/// Authorities valid for an identifier typed INS-C. IHE France data types 1.8.2, pages 6-7.
pub const INS_C_AUTHORITIES: [&str; 3] = [INS_C, INS_C_TEST, INS_C_DEMO];
