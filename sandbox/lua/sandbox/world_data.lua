--- The synthetic world's source tables (sandbox.world builds from them): sizes, seniorities,
-- revenue and funding by size, industries, technologies, locations, names by origin,
-- departments and titles, company-name parts, email patterns and providers. Data only; the
-- weights (*_WEIGHTS, LOCATIONS[i][6]) are relative frequencies. Changing any entry changes
-- every generated world.
local M = {}
M.SIZES = { "1-10", "11-50", "51-200", "201-500", "501-1000", "1001-5000", "5001-10000",
  "10001+" }
M.SIZE_BOUNDS = { { 1, 10 }, { 11, 50 }, { 51, 200 }, { 201, 500 }, { 501, 1000 },
  { 1001, 5000 }, { 5001, 10000 }, { 10001, 120000 } }
M.SIZE_WEIGHTS = { 10, 25, 27, 15, 9, 8, 3, 3 }
M.PEOPLE_WEIGHTS = { 1, 2, 3, 5, 7, 9, 12, 14 }

M.SENIORITIES = { "c_suite", "vp", "director", "manager", "senior", "entry" }
M.SENIORITY_LABELS = { c_suite = "C-Suite", vp = "VP", director = "Director",
  manager = "Manager", senior = "Senior", entry = "Entry" }
M.SENIORITY_WEIGHTS = { 5, 8, 14, 22, 25, 26 }

M.REVENUE_RANGES = { "<$1M", "$1M-$10M", "$10M-$25M", "$25M-$50M", "$50M-$100M",
  "$100M-$250M", "$250M-$500M", "$500M-$1B", "$1B+" }
M.REVENUE_BY_SIZE = { { 1 }, { 1, 2 }, { 2, 3 }, { 3, 4 }, { 4, 5 }, { 5, 6, 7 }, { 7, 8 },
  { 8, 9 } }

M.FUNDING_STAGES = { "Bootstrapped", "Pre-Seed", "Seed", "Series A", "Series B", "Series C",
  "Series D+", "Private Equity", "Public" }
M.FUNDING_BY_SIZE = { { 1, 2, 3 }, { 1, 2, 3, 4 }, { 1, 3, 4, 5 }, { 4, 5, 6 },
  { 5, 6, 7 }, { 6, 7, 8, 9 }, { 7, 8, 9 }, { 8, 9, 9 } }
-- total funding bounds per stage, in units of $100k
M.FUNDING_USD = { false, { 3, 15 }, { 10, 50 }, { 50, 200 }, { 150, 600 }, { 400, 1500 },
  { 1000, 6000 }, { 500, 5000 }, { 2000, 20000 } }

-- name, tech profile, descriptors, top-level domains, description phrases
M.INDUSTRIES = {
  { "Computer Software", "saas", { "Software", "Systems", "Labs", "AI" }, { "io", "com", "ai" },
    { "workflow automation", "a developer platform", "revenue analytics", "AI copilots" } },
  { "Information Technology & Services", "saas", { "Technologies", "Solutions", "Systems" },
    { "com", "io" }, { "managed cloud services", "IT consulting", "systems integration" } },
  { "Internet", "saas", { "Labs", "Digital", "Online" }, { "com", "io", "co" },
    { "a consumer marketplace", "online communities", "creator tools" } },
  { "Computer & Network Security", "saas", { "Security", "Defense", "Shield" }, { "io", "com" },
    { "zero-trust access", "threat detection", "identity security" } },
  { "Financial Services", "fin", { "Capital", "Financial", "Pay" }, { "com", "io" },
    { "embedded payments", "wealth management", "lending infrastructure" } },
  { "Banking", "fin", { "Bank", "Financial", "Trust" }, { "com" },
    { "digital banking", "small-business banking", "treasury services" } },
  { "Insurance", "fin", { "Insurance", "Assurance", "Mutual" }, { "com" },
    { "usage-based insurance", "commercial insurance", "claims automation" } },
  { "Hospital & Health Care", "health", { "Health", "Care", "Medical" }, { "com", "health" },
    { "virtual care", "patient engagement", "clinical operations software" } },
  { "Biotechnology", "health", { "Bio", "Therapeutics", "Genomics" }, { "com", "bio" },
    { "gene therapies", "protein design", "diagnostics" } },
  { "Pharmaceuticals", "health", { "Pharma", "Therapeutics", "Labs" }, { "com" },
    { "specialty medicines", "clinical trials", "generic drugs" } },
  { "Marketing & Advertising", "media", { "Media", "Marketing", "Creative" }, { "com", "co" },
    { "performance marketing", "brand campaigns", "influencer programs" } },
  { "Media Production", "media", { "Studios", "Media", "Pictures" }, { "com", "tv" },
    { "branded video", "podcast production", "streaming content" } },
  { "E-Learning", "saas", { "Learning", "Academy", "Edu" }, { "com", "io" },
    { "online courses", "corporate training", "tutoring" } },
  { "Education Management", "services", { "Education", "Schools", "Learning" }, { "org", "com" },
    { "school administration", "campus services", "student success" } },
  { "Retail", "commerce", { "Goods", "Market", "Supply" }, { "com", "shop" },
    { "direct-to-consumer apparel", "specialty retail", "home goods" } },
  { "Consumer Goods", "commerce", { "Brands", "Goods", "Co" }, { "com" },
    { "sustainable household products", "personal care", "outdoor gear" } },
  { "Food & Beverages", "commerce", { "Foods", "Kitchen", "Beverages" }, { "com" },
    { "plant-based foods", "craft beverages", "meal kits" } },
  { "Logistics & Supply Chain", "industrial", { "Logistics", "Freight", "Supply" }, { "com" },
    { "freight brokerage", "last-mile delivery", "warehouse automation" } },
  { "Construction", "industrial", { "Builders", "Construction", "Group" }, { "com" },
    { "commercial construction", "modular buildings", "infrastructure projects" } },
  { "Automotive", "industrial", { "Motors", "Mobility", "Automotive" }, { "com" },
    { "electric vehicles", "fleet telematics", "auto parts" } },
  { "Renewables & Environment", "industrial", { "Energy", "Solar", "Power" }, { "com", "energy" },
    { "solar installations", "battery storage", "carbon accounting" } },
  { "Telecommunications", "industrial", { "Networks", "Telecom", "Connect" }, { "com", "net" },
    { "fiber networks", "private 5G", "unified communications" } },
  { "Real Estate", "services", { "Realty", "Properties", "Estates" }, { "com" },
    { "commercial real estate", "property management", "proptech" } },
  { "Management Consulting", "services", { "Partners", "Advisory", "Consulting" }, { "com" },
    { "strategy consulting", "operations advisory", "digital transformation" } },
  { "Staffing & Recruiting", "services", { "Talent", "Staffing", "Recruiting" }, { "com", "co" },
    { "technical recruiting", "contract staffing", "executive search" } },
  { "Legal Services", "services", { "Legal", "Law", "LLP" }, { "com", "law" },
    { "corporate law", "legal operations", "IP litigation" } },
}

-- the second `industries` entry of a company, by tech profile
M.PROFILE_LABELS = { saas = "SaaS", fin = "Fintech", health = "Healthcare",
  commerce = "Consumer", industrial = "Industrial", media = "Media",
  services = "Professional Services" }

M.TECH_GENERAL = { "Google Workspace", "Microsoft 365", "Slack", "Zoom", "Salesforce",
  "HubSpot", "Google Analytics", "WordPress", "Okta", "Jira", "Notion", "Zendesk", "Intercom",
  "DocuSign", "Workday", "Gusto", "LinkedIn Sales Navigator", "Outreach", "Gong", "Mailchimp" }
M.TECH_PROFILE = {
  saas = { "AWS", "Google Cloud", "Azure", "React", "TypeScript", "Python", "Go", "Node.js",
    "Kubernetes", "Terraform", "PostgreSQL", "Snowflake", "dbt", "Segment", "Datadog", "Stripe",
    "Sentry", "GitHub", "Figma", "Vercel" },
  fin = { "AWS", "Java", "Kotlin", "PostgreSQL", "Oracle", "Snowflake", "Plaid", "Stripe",
    "Kubernetes", "Tableau", "Looker", "Splunk", "Python", "React" },
  health = { "Epic", "Salesforce Health Cloud", "AWS", "Azure", "Python", "R", "Snowflake",
    "Tableau", "Veeva", "Twilio", "React" },
  commerce = { "Shopify", "Magento", "Klaviyo", "Stripe", "Google Ads", "Meta Ads", "NetSuite",
    "Yotpo", "Gorgias", "BigCommerce", "Segment" },
  industrial = { "SAP", "Oracle", "Microsoft Dynamics", "Azure", "Power BI", "AutoCAD",
    "Procore", "Samsara", "NetSuite", "ServiceNow" },
  services = { "NetSuite", "QuickBooks", "Bullhorn", "Clio", "Power BI", "Asana", "Monday.com",
    "Greenhouse", "Lever", "Tableau" },
  media = { "Adobe Creative Cloud", "Frame.io", "Google Ads", "Meta Ads", "TikTok Ads",
    "Marketo", "Hootsuite", "Sprout Social", "Canva", "Vimeo" },
}


-- city, state, state_code, country, country_code, weight, phone country code
M.LOCATIONS = {
  { "San Francisco", "California", "CA", "United States", "US", 14, "1" },
  { "New York", "New York", "NY", "United States", "US", 14, "1" },
  { "Austin", "Texas", "TX", "United States", "US", 7, "1" },
  { "Seattle", "Washington", "WA", "United States", "US", 6, "1" },
  { "Boston", "Massachusetts", "MA", "United States", "US", 6, "1" },
  { "Chicago", "Illinois", "IL", "United States", "US", 6, "1" },
  { "Denver", "Colorado", "CO", "United States", "US", 4, "1" },
  { "Atlanta", "Georgia", "GA", "United States", "US", 4, "1" },
  { "Los Angeles", "California", "CA", "United States", "US", 6, "1" },
  { "Miami", "Florida", "FL", "United States", "US", 3, "1" },
  { "Raleigh", "North Carolina", "NC", "United States", "US", 2, "1" },
  { "Salt Lake City", "Utah", "UT", "United States", "US", 2, "1" },
  { "Minneapolis", "Minnesota", "MN", "United States", "US", 2, "1" },
  { "Dallas", "Texas", "TX", "United States", "US", 4, "1" },
  { "Philadelphia", "Pennsylvania", "PA", "United States", "US", 2, "1" },
  { "Nashville", "Tennessee", "TN", "United States", "US", 2, "1" },
  { "Toronto", "Ontario", "ON", "Canada", "CA", 4, "1" },
  { "Vancouver", "British Columbia", "BC", "Canada", "CA", 2, "1" },
  { "Montreal", "Quebec", "QC", "Canada", "CA", 2, "1" },
  { "London", "England", "ENG", "United Kingdom", "GB", 8, "44" },
  { "Manchester", "England", "ENG", "United Kingdom", "GB", 2, "44" },
  { "Edinburgh", "Scotland", "SCT", "United Kingdom", "GB", 1, "44" },
  { "Dublin", "County Dublin", "D", "Ireland", "IE", 2, "353" },
  { "Berlin", "Berlin", "BE", "Germany", "DE", 3, "49" },
  { "Munich", "Bavaria", "BY", "Germany", "DE", 2, "49" },
  { "Paris", "Île-de-France", "IDF", "France", "FR", 3, "33" },
  { "Amsterdam", "North Holland", "NH", "Netherlands", "NL", 2, "31" },
  { "Stockholm", "Stockholm County", "AB", "Sweden", "SE", 1, "46" },
  { "Barcelona", "Catalonia", "CT", "Spain", "ES", 1, "34" },
  { "Madrid", "Community of Madrid", "MD", "Spain", "ES", 1, "34" },
  { "Tel Aviv", "Tel Aviv District", "TA", "Israel", "IL", 2, "972" },
  { "Bengaluru", "Karnataka", "KA", "India", "IN", 3, "91" },
  { "Mumbai", "Maharashtra", "MH", "India", "IN", 2, "91" },
  { "Singapore", "Singapore", "SG", "Singapore", "SG", 2, "65" },
  { "Sydney", "New South Wales", "NSW", "Australia", "AU", 2, "61" },
  { "Melbourne", "Victoria", "VIC", "Australia", "AU", 1, "61" },
  { "São Paulo", "São Paulo", "SP", "Brazil", "BR", 2, "55" },
  { "Lagos", "Lagos", "LA", "Nigeria", "NG", 1, "234" },
  { "Tokyo", "Tokyo", "13", "Japan", "JP", 1, "81" },
  { "Dubai", "Dubai", "DU", "United Arab Emirates", "AE", 1, "971" },
}

-- First and last names by origin; a person usually takes both from one origin.
M.NAMES = {
  { -- English-speaking
    { "James", "Olivia", "Michael", "Emma", "William", "Sophia", "Benjamin", "Charlotte",
      "Daniel", "Amelia", "Ethan", "Harper", "Matthew", "Grace", "Ryan", "Hannah", "Tyler",
      "Madison", "Jack", "Chloe", "Liam", "Ava", "Noah", "Emily" },
    { "Smith", "Johnson", "Williams", "Brown", "Jones", "Miller", "Davis", "Wilson", "Taylor",
      "Anderson", "Thomas", "Moore", "Martin", "Thompson", "White", "Harris", "Clark", "Lewis",
      "Walker", "Hall", "Young", "King", "Wright", "Scott", "Green", "Baker", "Carter",
      "Mitchell", "Parker", "Collins", "Murphy", "Reed", "Cook", "Bennett", "Hughes" },
  },
  { -- Hispanic
    { "José", "María", "Luis", "Sofía", "Carlos", "Valentina", "Diego", "Camila", "Javier",
      "Lucía", "Andrés", "Isabella", "Mateo", "Gabriela", "Alejandro", "Daniela" },
    { "García", "Rodríguez", "Martínez", "Hernández", "López", "González", "Pérez", "Sánchez",
      "Ramírez", "Torres", "Flores", "Rivera", "Gómez", "Díaz", "Morales", "Ortiz", "Núñez",
      "Castillo", "Vargas", "Romero" },
  },
  { -- Indian
    { "Aarav", "Priya", "Rohan", "Ananya", "Vikram", "Neha", "Arjun", "Kavya", "Rahul",
      "Ishita", "Siddharth", "Meera", "Karan", "Divya", "Aditya", "Pooja" },
    { "Sharma", "Patel", "Gupta", "Singh", "Iyer", "Reddy", "Nair", "Kumar", "Mehta", "Joshi",
      "Rao", "Chopra", "Desai", "Bhat", "Menon", "Kapoor" },
  },
  { -- Chinese
    { "Wei", "Mei", "Jun", "Lin", "Hao", "Xin", "Yang", "Jing", "Chen", "Yan", "Lei", "Hui" },
    { "Wang", "Li", "Zhang", "Liu", "Chen", "Yang", "Huang", "Zhao", "Wu", "Zhou", "Xu", "Sun",
      "Ma", "Zhu", "Hu", "Guo" },
  },
  { -- West African
    { "Chinedu", "Ngozi", "Oluwaseun", "Amara", "Tunde", "Adaeze", "Kwame", "Abena", "Emeka",
      "Folake", "Kofi", "Yewande" },
    { "Okafor", "Adeyemi", "Okonkwo", "Mensah", "Balogun", "Eze", "Nwosu", "Owusu", "Adebayo",
      "Boateng", "Obi", "Asante" },
  },
  { -- German and Nordic
    { "Lukas", "Anna", "Jonas", "Lena", "Felix", "Marie", "Søren", "Ingrid", "Björn", "Freya",
      "Niklas", "Katharina", "Erik", "Astrid" },
    { "Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Becker", "Hoffmann", "Larsen",
      "Johansson", "Nielsen", "Lindqvist", "Berg", "Koch", "Wagner" },
  },
  { -- French and Italian
    { "Louis", "Chloé", "Hugo", "Anaïs", "Théo", "Camille", "Marco", "Giulia", "Luca",
      "Francesca", "Matteo", "Élodie", "Antoine", "Chiara" },
    { "Dubois", "Moreau", "Lefebvre", "Laurent", "Girard", "Rossi", "Russo", "Ferrari",
      "Esposito", "Bianchi", "Romano", "Fontaine", "Mercier", "Conti" },
  },
  { -- Arabic
    { "Omar", "Layla", "Ahmed", "Noor", "Youssef", "Fatima", "Karim", "Yasmin", "Hassan",
      "Rania", "Tariq", "Salma" },
    { "Haddad", "Khalil", "Mansour", "Nasser", "Saleh", "Farouk", "Aziz", "Hamdan", "Rahman",
      "Khoury" },
  },
  { -- Japanese and Korean
    { "Haruto", "Yui", "Sota", "Hina", "Ren", "Sakura", "Min-jun", "Ji-woo", "Seo-yeon",
      "Jae-won", "Kenji", "Aiko" },
    { "Sato", "Suzuki", "Takahashi", "Tanaka", "Watanabe", "Kim", "Lee", "Park", "Choi",
      "Jung", "Yamamoto", "Nakamura" },
  },
  { -- Slavic
    { "Ivan", "Anastasia", "Dmitri", "Katarina", "Pavel", "Olga", "Tomasz", "Zofia", "Marek",
      "Natalia", "Andrei", "Irina" },
    { "Ivanov", "Petrov", "Novak", "Kowalski", "Nowak", "Horvat", "Popescu", "Volkov",
      "Wiśniewski", "Dvořák", "Sokolov", "Kovač" },
  },
}
M.ORIGIN_WEIGHTS = { 34, 12, 12, 8, 5, 8, 7, 5, 4, 5 }

M.DEPARTMENTS = { "Sales", "Marketing", "Engineering", "Product", "Finance",
  "Human Resources", "Operations", "Customer Success", "IT", "Legal", "Data", "Design" }
M.DEPARTMENT_WEIGHTS = { 18, 12, 20, 7, 7, 6, 8, 7, 5, 3, 4, 3 }

-- titles[department] = { c_suite, vp, director, manager, senior, entry } (variants each)
M.TITLES = {
  Sales = { { "Chief Revenue Officer", "Chief Sales Officer" }, { "VP of Sales", "VP Sales",
    "SVP of Sales" }, { "Director of Sales", "Sales Director", "Regional Sales Director" },
    { "Sales Manager", "Account Executive Manager", "Regional Sales Manager" },
    { "Senior Account Executive", "Enterprise Account Executive" },
    { "Sales Development Representative", "Business Development Representative",
      "Account Executive" } },
  Marketing = { { "Chief Marketing Officer" }, { "VP of Marketing", "VP Growth Marketing" },
    { "Director of Marketing", "Director of Demand Generation", "Brand Director" },
    { "Marketing Manager", "Product Marketing Manager", "Content Marketing Manager" },
    { "Senior Marketing Specialist", "Senior Growth Marketer" },
    { "Marketing Coordinator", "Marketing Associate" } },
  Engineering = { { "Chief Technology Officer" }, { "VP of Engineering", "VP Engineering" },
    { "Director of Engineering", "Head of Platform Engineering" },
    { "Engineering Manager", "Software Engineering Manager" },
    { "Senior Software Engineer", "Staff Software Engineer", "Senior Backend Engineer" },
    { "Software Engineer", "Frontend Engineer", "Junior Developer" } },
  Product = { { "Chief Product Officer" }, { "VP of Product", "VP Product Management" },
    { "Director of Product", "Group Product Manager" }, { "Product Manager",
      "Technical Product Manager" }, { "Senior Product Manager", "Senior Product Analyst" },
    { "Associate Product Manager", "Product Analyst" } },
  Finance = { { "Chief Financial Officer" }, { "VP of Finance", "VP Finance & Accounting" },
    { "Finance Director", "Director of FP&A", "Controller" }, { "Finance Manager",
      "Accounting Manager" }, { "Senior Financial Analyst", "Senior Accountant" },
    { "Financial Analyst", "Staff Accountant" } },
  ["Human Resources"] = { { "Chief People Officer", "Chief Human Resources Officer" },
    { "VP of People", "VP Human Resources" }, { "Director of Talent Acquisition", "HR Director" },
    { "HR Manager", "Recruiting Manager" }, { "Senior Recruiter", "Senior HR Business Partner" },
    { "Recruiter", "HR Coordinator", "People Operations Associate" } },
  Operations = { { "Chief Operating Officer" }, { "VP of Operations", "VP Business Operations" },
    { "Director of Operations", "Director of Revenue Operations" },
    { "Operations Manager", "Sales Operations Manager" },
    { "Senior Operations Analyst", "Senior Program Manager" },
    { "Operations Associate", "Operations Analyst" } },
  ["Customer Success"] = { { "Chief Customer Officer" }, { "VP of Customer Success",
    "VP Customer Experience" }, { "Director of Customer Success", "Director of Support" },
    { "Customer Success Manager", "Support Manager" }, { "Senior Customer Success Manager",
      "Senior Solutions Consultant" }, { "Customer Support Specialist", "Onboarding Specialist" } },
  IT = { { "Chief Information Officer", "Chief Information Security Officer" },
    { "VP of IT", "VP Information Security" }, { "IT Director", "Director of Security" },
    { "IT Manager", "Security Operations Manager" }, { "Senior Systems Administrator",
      "Senior Security Engineer" }, { "IT Support Specialist", "Systems Administrator" } },
  Legal = { { "General Counsel", "Chief Legal Officer" }, { "VP Legal", "Deputy General Counsel" },
    { "Director of Legal", "Head of Compliance" }, { "Legal Manager", "Compliance Manager" },
    { "Senior Counsel", "Senior Paralegal" }, { "Paralegal", "Legal Assistant" } },
  Data = { { "Chief Data Officer" }, { "VP of Data", "VP Analytics" }, { "Director of Data "
    .. "Science", "Head of Analytics" }, { "Data Science Manager", "Analytics Manager" },
    { "Senior Data Scientist", "Senior Data Engineer" }, { "Data Analyst", "Data Engineer" } },
  Design = { { "Chief Design Officer" }, { "VP of Design" }, { "Director of Design",
    "Head of UX" }, { "Design Manager", "UX Research Manager" }, { "Senior Product Designer",
      "Senior UX Designer" }, { "Product Designer", "UX Designer" } },
}
M.CEO_TITLES = { "Chief Executive Officer", "Co-Founder & CEO", "Founder", "President",
  "Managing Director" }

M.PREFIXES = { "Acme", "Atlas", "Aurora", "Beacon", "Blue", "Bright", "Cedar", "Clear",
  "Cloud", "Cobalt", "Copper", "Core", "Crest", "Delta", "Echo", "Ember", "Ever", "Falcon",
  "Field", "First", "Flux", "Forge", "Front", "Golden", "Granite", "Green", "Harbor", "Helix",
  "High", "Iron", "Juniper", "Kestrel", "Keystone", "Lake", "Lumen", "Maple", "Meridian",
  "Metro", "Nimbus", "North", "Nova", "Oak", "Omni", "Orbit", "Pine", "Pixel", "Prime",
  "Quantum", "Quartz", "Red", "River", "Rock", "Sage", "Silver", "Sky", "Solar", "Spark",
  "Stone", "Summit", "Swift", "Terra", "Tide", "True", "Union", "Vector", "Vertex", "Vista",
  "Wave", "West", "Willow", "Zen", "Arc", "Bold", "Canyon", "Drift", "Fable", "Glow", "Haven",
  "Indigo", "Jade", "Kite", "Lattice", "Mosaic", "Noble", "Opal", "Peak", "Radiant", "Slate" }
M.ROOTS = { "works", "ly", "stack", "base", "field", "point", "path", "line", "scale",
  "loop", "bridge", "hub", "wise", "flow", "gate", "mark", "shift", "wave", "sight", "grid",
  "leaf", "bit", "mint", "craft", "nest", "frame", "pulse", "yard" }

-- accented letters (UTF-8) -> their ASCII letter, for folding names
M.ASCII = { ["á"] = "a", ["à"] = "a", ["â"] = "a", ["ä"] = "a", ["å"] = "a", ["ã"] = "a",
  ["é"] = "e", ["è"] = "e", ["ê"] = "e", ["ë"] = "e", ["í"] = "i", ["ï"] = "i", ["î"] = "i",
  ["ó"] = "o", ["ö"] = "o", ["ø"] = "o", ["ô"] = "o", ["ú"] = "u", ["ü"] = "u", ["û"] = "u",
  ["ñ"] = "n", ["ç"] = "c", ["ś"] = "s", ["ř"] = "r", ["č"] = "c", ["ž"] = "z", ["ł"] = "l",
  ["Á"] = "a", ["É"] = "e", ["Ö"] = "o", ["Ü"] = "u", ["Ø"] = "o", ["Å"] = "a", ["Í"] = "i",
  ["Ó"] = "o", ["Ú"] = "u", ["Ñ"] = "n", ["Ç"] = "c", ["Ś"] = "s", ["Č"] = "c", ["Ž"] = "z" }

M.EMAIL_PATTERNS = { "first.last", "first", "flast", "firstlast", "first_last",
  "firstl" }
M.EMAIL_PATTERN_WEIGHTS = { 45, 12, 22, 10, 6, 5 }
M.PROVIDERS = { "leadmagic", "wiza", "prospeo", "findymail", "datagma", "hunter" }
M.PROVIDER_WEIGHTS = { 30, 22, 18, 14, 10, 6 }

return M
