/**
 * Flex's `hsa_fsa_eligibility` (flex-api.md §7) in the three classes a merchant and a storefront act
 * on: payable with an HSA/FSA card (auto_substantiation, private_label, vision, prescription),
 * payable with one after a Letter of Medical Necessity (letter_of_medical_necessity), or not
 * (not_eligible). A value Flex adds later counts as eligible only if it is not one of the other two;
 * the raw value is kept and shown beside the class.
 */
export type EligibilityClass = 'eligible' | 'letter_of_medical_necessity' | 'not_eligible';

export function eligibilityClass(value: string | null): EligibilityClass | null {
  if (value === null) return null;
  if (value === 'not_eligible') return 'not_eligible';
  if (value === 'letter_of_medical_necessity') return 'letter_of_medical_necessity';
  return 'eligible';
}

export const ELIGIBILITY_LABELS: Record<EligibilityClass, string> = {
  eligible: 'HSA/FSA eligible',
  letter_of_medical_necessity: 'Needs a Letter of Medical Necessity',
  not_eligible: 'Not eligible',
};
