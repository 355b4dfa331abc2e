/*
 * English names (ISO 3166-1 short names, and the forms people commonly type) of every assigned alpha-2 code, plus the
 * alpha-3 codes in wide use. Used to read a country that arrives as a name ("Germany", "United States", "Türkiye")
 * where a vendor takes the code. Only unambiguous names are listed: "Congo" and "Korea" name two countries each and
 * are left out, so they are never guessed.
 */
const NAMES = `AD Andorra|AE United Arab Emirates,UAE,ARE|AF Afghanistan,AFG|AG Antigua and Barbuda|AI Anguilla|AL Albania,ALB|
AM Armenia,ARM|AO Angola,AGO|AQ Antarctica|AR Argentina,ARG|AS American Samoa|AT Austria,AUT,Österreich|
AU Australia,AUS|AW Aruba|AX Aland Islands|AZ Azerbaijan,AZE|BA Bosnia and Herzegovina,Bosnia,BIH|BB Barbados|
BD Bangladesh,BGD|BE Belgium,BEL,Belgique,België|BF Burkina Faso|BG Bulgaria,BGR|BH Bahrain,BHR|BI Burundi|BJ Benin|
BL Saint Barthelemy|BM Bermuda|BN Brunei,Brunei Darussalam|BO Bolivia,BOL|BQ Caribbean Netherlands,Bonaire|
BR Brazil,BRA,Brasil|BS Bahamas|BT Bhutan|BV Bouvet Island|BW Botswana|BY Belarus,BLR|BZ Belize|CA Canada,CAN|
CC Cocos Islands,Cocos (Keeling) Islands|CD Democratic Republic of the Congo,DR Congo,DRC,Congo-Kinshasa,COD|
CF Central African Republic|CG Republic of the Congo,Congo-Brazzaville|CH Switzerland,CHE,Schweiz,Suisse|
CI Ivory Coast,Cote d'Ivoire|CK Cook Islands|CL Chile,CHL|CM Cameroon,CMR|CN China,CHN,People's Republic of China,PRC|
CO Colombia,COL|CR Costa Rica,CRI|CU Cuba,CUB|CV Cape Verde,Cabo Verde|CW Curacao|CX Christmas Island|CY Cyprus,CYP|
CZ Czech Republic,Czechia,CZE|DE Germany,DEU,Deutschland|DJ Djibouti|DK Denmark,DNK,Danmark|DM Dominica|
DO Dominican Republic,DOM|DZ Algeria,DZA|EC Ecuador,ECU|EE Estonia,EST|EG Egypt,EGY|EH Western Sahara|ER Eritrea|
ES Spain,ESP,España|ET Ethiopia,ETH|FI Finland,FIN,Suomi|FJ Fiji|FK Falkland Islands|FM Micronesia|FO Faroe Islands|
FR France,FRA|GA Gabon|GB United Kingdom,UK,U.K.,Great Britain,Britain,GBR,England,Scotland,Wales,Northern Ireland|
GD Grenada|GE Georgia,GEO|GF French Guiana|GG Guernsey|GH Ghana,GHA|GI Gibraltar|GL Greenland|GM Gambia|GN Guinea|
GP Guadeloupe|GQ Equatorial Guinea|GR Greece,GRC,Hellas|GS South Georgia and the South Sandwich Islands|
GT Guatemala,GTM|GU Guam|GW Guinea-Bissau|GY Guyana|HK Hong Kong,HKG|HM Heard Island and McDonald Islands|
HN Honduras,HND|HR Croatia,HRV,Hrvatska|HT Haiti|HU Hungary,HUN,Magyarország|ID Indonesia,IDN|IE Ireland,IRL,Éire|
IL Israel,ISR|IM Isle of Man|IN India,IND|IO British Indian Ocean Territory|IQ Iraq,IRQ|IR Iran,IRN|
IS Iceland,ISL|IT Italy,ITA,Italia|JE Jersey|JM Jamaica,JAM|JO Jordan,JOR|JP Japan,JPN|KE Kenya,KEN|
KG Kyrgyzstan,KGZ|KH Cambodia,KHM|KI Kiribati|KM Comoros|KN Saint Kitts and Nevis|KP North Korea,PRK|
KR South Korea,KOR,Republic of Korea|KW Kuwait,KWT|KY Cayman Islands|KZ Kazakhstan,KAZ|LA Laos,Lao PDR|
LB Lebanon,LBN|LC Saint Lucia|LI Liechtenstein|LK Sri Lanka,LKA|LR Liberia|LS Lesotho|LT Lithuania,LTU|
LU Luxembourg,LUX|LV Latvia,LVA|LY Libya,LBY|MA Morocco,MAR|MC Monaco|MD Moldova,MDA|ME Montenegro,MNE|
MF Saint Martin|MG Madagascar|MH Marshall Islands|MK North Macedonia,Macedonia,MKD|ML Mali|MM Myanmar,Burma,MMR|
MN Mongolia,MNG|MO Macao,Macau|MP Northern Mariana Islands|MQ Martinique|MR Mauritania|MS Montserrat|MT Malta,MLT|
MU Mauritius|MV Maldives|MW Malawi|MX Mexico,MEX,México|MY Malaysia,MYS|MZ Mozambique|NA Namibia|NC New Caledonia|
NE Niger|NF Norfolk Island|NG Nigeria,NGA|NI Nicaragua,NIC|NL Netherlands,NLD,Holland,The Netherlands,Nederland|
NO Norway,NOR,Norge|NP Nepal,NPL|NR Nauru|NU Niue|NZ New Zealand,NZL|OM Oman,OMN|PA Panama,PAN|PE Peru,PER|
PF French Polynesia|PG Papua New Guinea|PH Philippines,PHL|PK Pakistan,PAK|PL Poland,POL,Polska|
PM Saint Pierre and Miquelon|PN Pitcairn Islands|PR Puerto Rico,PRI|PS Palestine,PSE|PT Portugal,PRT|PW Palau|
PY Paraguay,PRY|QA Qatar,QAT|RE Reunion|RO Romania,ROU|RS Serbia,SRB|RU Russia,Russian Federation,RUS|RW Rwanda|
SA Saudi Arabia,SAU|SB Solomon Islands|SC Seychelles|SD Sudan|SE Sweden,SWE,Sverige|SG Singapore,SGP|SH Saint Helena|
SI Slovenia,SVN|SJ Svalbard and Jan Mayen|SK Slovakia,SVK|SL Sierra Leone|SM San Marino|SN Senegal,SEN|SO Somalia|
SR Suriname|SS South Sudan|ST Sao Tome and Principe|SV El Salvador,SLV|SX Sint Maarten|SY Syria,SYR|
SZ Eswatini,Swaziland|TC Turks and Caicos Islands|TD Chad|TF French Southern Territories|TG Togo|TH Thailand,THA|
TJ Tajikistan,TJK|TK Tokelau|TL Timor-Leste,East Timor|TM Turkmenistan,TKM|TN Tunisia,TUN|TO Tonga|
TR Turkey,Türkiye,Turkiye,TUR|TT Trinidad and Tobago|TV Tuvalu|TW Taiwan,TWN|TZ Tanzania,TZA|UA Ukraine,UKR|
UG Uganda,UGA|UM United States Minor Outlying Islands|
US United States,United States of America,USA,U.S.A.,U.S.,America|UY Uruguay,URY|UZ Uzbekistan,UZB|
VA Vatican City,Holy See|VC Saint Vincent and the Grenadines|VE Venezuela,VEN|VG British Virgin Islands|
VI U.S. Virgin Islands,US Virgin Islands|VN Vietnam,Viet Nam,VNM|VU Vanuatu|WF Wallis and Futuna|WS Samoa|
YE Yemen,YEM|YT Mayotte|ZA South Africa,ZAF|ZM Zambia,ZMB|ZW Zimbabwe,ZWE`

/** Lower case, no accents, no dots or apostrophes, `&` read as "and", single spaces, no leading "the". */
export function countryKey(name: string): string {
  return name
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/&/g, ' and ')
    .replace(/[.'’]/g, '')
    .replace(/[^a-z0-9()-]+/g, ' ')
    .trim()
    .replace(/^the /, '')
}

export const COUNTRY_BY_NAME: ReadonlyMap<string, string> = new Map(
  NAMES.split('|').flatMap((entry) => {
    const trimmed = entry.trim()
    const code = trimmed.slice(0, 2)
    return trimmed
      .slice(3)
      .split(',')
      .map((name) => [countryKey(name), code] as const)
  })
)
