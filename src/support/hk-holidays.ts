/**
 * Hong Kong general holidays (the General Holidays Ordinance, Cap. 149) for 2026 and 2027, as
 * gazetted: the days the desk's business-hours clocks stop. A day the government adds later (a
 * typhoon day is not one: it is a working day) goes in GOVHOST_SUPPORT_HOLIDAYS; a new year's
 * list is added here. Sundays are not listed: they are never business days.
 */
export const HK_PUBLIC_HOLIDAYS: readonly string[] = [
  // 2026
  '2026-01-01', // The first day of January
  '2026-02-17', // Lunar New Year's Day
  '2026-02-18', // The second day of Lunar New Year
  '2026-02-19', // The third day of Lunar New Year
  '2026-04-03', // Good Friday
  '2026-04-04', // The day following Good Friday
  '2026-04-06', // The day following Ching Ming Festival (5 April is a Sunday)
  '2026-04-07', // The day following Easter Monday
  '2026-05-01', // Labour Day
  '2026-05-25', // The day following the Birthday of the Buddha (24 May is a Sunday)
  '2026-06-19', // Tuen Ng Festival
  '2026-07-01', // HKSAR Establishment Day
  '2026-09-26', // The day following Mid-Autumn Festival
  '2026-10-01', // National Day
  '2026-10-19', // The day following Chung Yeung Festival (18 October is a Sunday)
  '2026-12-25', // Christmas Day
  '2026-12-26', // The first weekday after Christmas Day
  // 2027
  '2027-01-01', // The first day of January
  '2027-02-06', // Lunar New Year's Day
  '2027-02-08', // The third day of Lunar New Year
  '2027-02-09', // The fourth day of Lunar New Year (the second day is a Sunday)
  '2027-03-26', // Good Friday
  '2027-03-27', // The day following Good Friday
  '2027-03-29', // Easter Monday
  '2027-04-05', // Ching Ming Festival
  '2027-05-01', // Labour Day
  '2027-05-13', // The Birthday of the Buddha
  '2027-06-09', // Tuen Ng Festival
  '2027-07-01', // HKSAR Establishment Day
  '2027-09-16', // The day following Mid-Autumn Festival
  '2027-10-01', // National Day
  '2027-10-08', // Chung Yeung Festival
  '2027-12-25', // Christmas Day
  '2027-12-27', // The first weekday after Christmas Day
];
