// Folio
