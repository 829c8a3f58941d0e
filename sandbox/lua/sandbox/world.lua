--- The synthetic world: companies and people generated from the sandbox seed, the same on Lua
-- 5.4 and LuaJIT (sandbox.prng only, integer arithmetic, arrays walked in order). It is not
-- state: it is rebuilt from the seed at start and never persisted.
--
--   local world = require "sandbox.world"
--   local w = world.of(state)          -- built once per seed (cached), indexed
--   w.people[i], w.companies[i]        -- arrays in id order
--   w.people_by_id["4482910"]          -- person by search-DB id (integer as a string)
--   w.company_by_id["company_1a2b3c"], w.company_by_domain["acme.io"]
--   w.person_by_email[lower email], w.person_by_slug[linkedin slug]
--   (person fields full_name, location, linkedin_url, city, state, state_code, country and
--   country_code are derived on first read through a metatable: read them, do not pairs())
--   w.company_by_slug[slug], w.company_by_name[lower name], w.company_by_ticker["ACME"]
--   w.build_ms                          -- how long the build took (monotonic ms, if known)
--   world.company_of(w, person)         -- the person's company
--   world.match(w, fields)              -- best world person for contact fields, or nil
--   world.find_company(w, fields)       -- company by company_id / domain / ticker / name
--   world.linkedin_slug(url)            -- the profile slug of any LinkedIn URL form, or nil
--   world.company_record(w, company)    -- CompanyRecord (open object) for responses
--   world.person_row(w, person)         -- a people-search row (no email, no phone)
--
-- person: id, first_name, last_name, full_name, title, seniority (c_suite | vp | director |
--   manager | senior | entry), department, company (index into w.companies), city, state,
--   state_code, country, country_code, location ("City, State, Country"), linkedin_url, slug,
--   truth = { email, email_status, email_found, phone, phone_found, provider }
--   `truth` is hidden from search: enrichment reveals it. email_found (~85%) means a
--   deliverable address exists (email_status "valid" or "catch_all"); when false the
--   pattern address bounces (email_status "invalid"). phone_found (~40%): an E.164 mobile.
--   provider: the waterfall provider that finds the data.
-- company: id, name, domain, industry, industries, employee_count, size (range), size_idx
--   (1..8), revenue_range, city, state, state_code, country, country_code, hq_location,
--   funding_stage, total_funding_usd (nil when bootstrapped), tech_stack, linkedin_url, slug,
--   founded_year, ticker (public companies), description, email_pattern, catch_all
local prng = require "sandbox.prng"
local util = require "sandbox.util"

local M = {}

M.PEOPLE = 12000
M.COMPANIES = 1200

local format, lower, upper, gsub = string.format, string.lower, string.upper, string.gsub

M.SIZES = { "1-10", "11-50", "51-200", "201-500", "501-1000", "1001-5000", "5001-10000",
  "10001+" }
local SIZE_BOUNDS = { { 1, 10 }, { 11, 50 }, { 51, 200 }, { 201, 500 }, { 501, 1000 },
  { 1001, 5000 }, { 5001, 10000 }, { 10001, 120000 } }
local SIZE_WEIGHTS = { 10, 25, 27, 15, 9, 8, 3, 3 }
local PEOPLE_WEIGHTS = { 1, 2, 3, 5, 7, 9, 12, 14 }

M.SENIORITIES = { "c_suite", "vp", "director", "manager", "senior", "entry" }
M.SENIORITY_LABELS = { c_suite = "C-Suite", vp = "VP", director = "Director",
  manager = "Manager", senior = "Senior", entry = "Entry" }
local SENIORITY_WEIGHTS = { 5, 8, 14, 22, 25, 26 }

M.REVENUE_RANGES = { "<$1M", "$1M-$10M", "$10M-$25M", "$25M-$50M", "$50M-$100M",
  "$100M-$250M", "$250M-$500M", "$500M-$1B", "$1B+" }
local REVENUE_BY_SIZE = { { 1 }, { 1, 2 }, { 2, 3 }, { 3, 4 }, { 4, 5 }, { 5, 6, 7 }, { 7, 8 },
  { 8, 9 } }

M.FUNDING_STAGES = { "Bootstrapped", "Pre-Seed", "Seed", "Series A", "Series B", "Series C",
  "Series D+", "Private Equity", "Public" }
local FUNDING_BY_SIZE = { { 1, 2, 3 }, { 1, 2, 3, 4 }, { 1, 3, 4, 5 }, { 4, 5, 6 },
  { 5, 6, 7 }, { 6, 7, 8, 9 }, { 7, 8, 9 }, { 8, 9, 9 } }
-- total funding bounds per stage, in units of $100k
local FUNDING_USD = { false, { 3, 15 }, { 10, 50 }, { 50, 200 }, { 150, 600 }, { 400, 1500 },
  { 1000, 6000 }, { 500, 5000 }, { 2000, 20000 } }

-- name, tech profile, descriptors, top-level domains, description phrases
local INDUSTRIES = {
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
M.INDUSTRIES = {}
for i, ind in ipairs(INDUSTRIES) do
  M.INDUSTRIES[i] = ind[1]
end

local TECH_GENERAL = { "Google Workspace", "Microsoft 365", "Slack", "Zoom", "Salesforce",
  "HubSpot", "Google Analytics", "WordPress", "Okta", "Jira", "Notion", "Zendesk", "Intercom",
  "DocuSign", "Workday", "Gusto", "LinkedIn Sales Navigator", "Outreach", "Gong", "Mailchimp" }
local TECH_PROFILE = {
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
local LOCATIONS = {
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
local NAMES = {
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
local ORIGIN_WEIGHTS = { 34, 12, 12, 8, 5, 8, 7, 5, 4, 5 }

local DEPARTMENTS = { "Sales", "Marketing", "Engineering", "Product", "Finance",
  "Human Resources", "Operations", "Customer Success", "IT", "Legal", "Data", "Design" }
local DEPARTMENT_WEIGHTS = { 18, 12, 20, 7, 7, 6, 8, 7, 5, 3, 4, 3 }

-- titles[department] = { c_suite, vp, director, manager, senior, entry } (variants each)
local TITLES = {
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
local CEO_TITLES = { "Chief Executive Officer", "Co-Founder & CEO", "Founder", "President",
  "Managing Director" }

local PREFIXES = { "Acme", "Atlas", "Aurora", "Beacon", "Blue", "Bright", "Cedar", "Clear",
  "Cloud", "Cobalt", "Copper", "Core", "Crest", "Delta", "Echo", "Ember", "Ever", "Falcon",
  "Field", "First", "Flux", "Forge", "Front", "Golden", "Granite", "Green", "Harbor", "Helix",
  "High", "Iron", "Juniper", "Kestrel", "Keystone", "Lake", "Lumen", "Maple", "Meridian",
  "Metro", "Nimbus", "North", "Nova", "Oak", "Omni", "Orbit", "Pine", "Pixel", "Prime",
  "Quantum", "Quartz", "Red", "River", "Rock", "Sage", "Silver", "Sky", "Solar", "Spark",
  "Stone", "Summit", "Swift", "Terra", "Tide", "True", "Union", "Vector", "Vertex", "Vista",
  "Wave", "West", "Willow", "Zen", "Arc", "Bold", "Canyon", "Drift", "Fable", "Glow", "Haven",
  "Indigo", "Jade", "Kite", "Lattice", "Mosaic", "Noble", "Opal", "Peak", "Radiant", "Slate" }
local ROOTS = { "works", "ly", "stack", "base", "field", "point", "path", "line", "scale",
  "loop", "bridge", "hub", "wise", "flow", "gate", "mark", "shift", "wave", "sight", "grid",
  "leaf", "bit", "mint", "craft", "nest", "frame", "pulse", "yard" }

local ASCII = { ["á"] = "a", ["à"] = "a", ["â"] = "a", ["ä"] = "a", ["å"] = "a", ["ã"] = "a",
  ["é"] = "e", ["è"] = "e", ["ê"] = "e", ["ë"] = "e", ["í"] = "i", ["ï"] = "i", ["î"] = "i",
  ["ó"] = "o", ["ö"] = "o", ["ø"] = "o", ["ô"] = "o", ["ú"] = "u", ["ü"] = "u", ["û"] = "u",
  ["ñ"] = "n", ["ç"] = "c", ["ś"] = "s", ["ř"] = "r", ["č"] = "c", ["ž"] = "z", ["ł"] = "l",
  ["Á"] = "a", ["É"] = "e", ["Ö"] = "o", ["Ü"] = "u", ["Ø"] = "o", ["Å"] = "a", ["Í"] = "i",
  ["Ó"] = "o", ["Ú"] = "u", ["Ñ"] = "n", ["Ç"] = "c", ["Ś"] = "s", ["Č"] = "c", ["Ž"] = "z" }

local function ascii_char(c)
  return ASCII[c] or ""
end

local fold_memo, fold_size = {}, 0

--- s folded to lowercase ASCII letters and digits (accents dropped, others removed).
function M.fold(s)
  local f = fold_memo[s]
  if f then
    return f
  end
  f = gsub(lower(gsub(s, "[\195-\197][\128-\191]", ascii_char)), "[^%w]", "")
  if fold_size < 4096 then
    fold_memo[s], fold_size = f, fold_size + 1
  end
  return f
end

--- s lowercased with accents folded, other characters kept (for matching names).
local function ascii_or_same(c)
  return ASCII[c] or c
end

function M.fold_text(s)
  return lower((gsub(s, "[\195-\197][\128-\191]", ascii_or_same)))
end

local EMAIL_PATTERNS = { "first.last", "first", "flast", "firstlast", "first_last",
  "firstl" }
local EMAIL_PATTERN_WEIGHTS = { 45, 12, 22, 10, 6, 5 }
local PROVIDERS = { "leadmagic", "wiza", "prospeo", "findymail", "datagma", "hunter" }
local PROVIDER_WEIGHTS = { 30, 22, 18, 14, 10, 6 }

-- The world's random stream: a Lehmer generator (MINSTD, multiplier 48271 modulo 2^31 - 1)
-- seeded from sandbox.prng. One product below 2^47 per draw: exact on Lua 5.4 integers and
-- LuaJIT doubles, and cheap enough for the few hundred thousand draws of a build.
local function stream(seed, n)
  local s = prng.new(seed, n):next() % 2147483646 + 1
  return function(lo, hi)
    s = s * 48271 % 2147483647
    return lo + s % (hi - lo + 1)
  end
end

-- Weighted choice in O(1): an array with index i repeated weights[i] times.
local function expand(weights)
  local t = {}
  for i, w in ipairs(weights) do
    for _ = 1, w do
      t[#t + 1] = i
    end
  end
  return t
end

local function pick(r, t)
  return t[r(1, #t)]
end

local function local_part(pattern, first, last)
  local f, l = M.fold(first), M.fold(last)
  if pattern == "first.last" then
    return f .. "." .. l
  elseif pattern == "first" then
    return f
  elseif pattern == "flast" then
    return f:sub(1, 1) .. l
  elseif pattern == "firstlast" then
    return f .. l
  elseif pattern == "first_last" then
    return f .. "_" .. l
  end
  return f .. l:sub(1, 1)
end

local function phone_number(r, cc)
  if cc == "1" then
    return format("+1%03d%03d%04d", r(201, 989), r(201, 999), r(0, 9999))
  elseif cc == "44" then
    return format("+447%03d%06d", r(100, 999), r(0, 999999))
  elseif cc == "49" then
    return format("+4915%d%08d", r(1, 9), r(0, 99999999))
  elseif cc == "33" then
    return format("+33%d%08d", r(6, 7), r(0, 99999999))
  end
  return format("+%s%d%08d", cc, r(6, 9), r(0, 99999999))
end

-- Derived person fields, computed on first read (and then stored): the build stays cheap.
local PERSON_LAZY = {
  full_name = function(p) return p.first_name .. " " .. p.last_name end,
  location = function(p) return p.loc[1] .. ", " .. p.loc[2] .. ", " .. p.loc[4] end,
  linkedin_url = function(p) return "https://www.linkedin.com/in/" .. p.slug end,
  city = function(p) return p.loc[1] end,
  state = function(p) return p.loc[2] end,
  state_code = function(p) return p.loc[3] end,
  country = function(p) return p.loc[4] end,
  country_code = function(p) return p.loc[5] end,
}
local person_mt = {
  __index = function(p, k)
    local f = PERSON_LAZY[k]
    if f then
      local v = f(p)
      rawset(p, k, v)
      return v
    end
    return nil
  end,
}

local function build_companies(w, r)
  local size_w8 = expand(SIZE_WEIGHTS)
  local loc_w = {}
  for i, l in ipairs(LOCATIONS) do
    loc_w[i] = l[6]
  end
  local loc_w8 = expand(loc_w)
  local pat_w8 = expand(EMAIL_PATTERN_WEIGHTS)
  local names, tickers = {}, {}
  local companies = w.companies
  for i = 1, M.COMPANIES do
    local ind = INDUSTRIES[r(1, #INDUSTRIES)]
    local name
    for _ = 1, 20 do
      local form = r(1, 100)
      local prefix = pick(r, PREFIXES)
      if form <= 35 then
        name = prefix .. pick(r, ROOTS)
      elseif form <= 70 then
        name = prefix .. " " .. pick(r, ind[3])
      elseif form <= 88 then
        name = prefix .. pick(r, ROOTS) .. " " .. pick(r, ind[3])
      else
        local origin = NAMES[1]
        name = pick(r, origin[2]) .. " & " .. pick(r, origin[2])
      end
      if not names[name] then
        break
      end
      name = nil
    end
    if not name then
      name = pick(r, PREFIXES) .. " " .. pick(r, ind[3]) .. " " .. i
    end
    names[name] = true
    local base = M.fold(name)
    local domain
    for _, tld in ipairs(ind[4]) do
      if not w.company_by_domain[base .. "." .. tld] then
        domain = base .. "." .. tld
        break
      end
    end
    domain = domain or (base .. i .. ".com")
    local size_idx = pick(r, size_w8)
    local bounds = SIZE_BOUNDS[size_idx]
    local loc = LOCATIONS[pick(r, loc_w8)]
    local stage_idx = pick(r, FUNDING_BY_SIZE[size_idx])
    local stage = M.FUNDING_STAGES[stage_idx]
    local fb = FUNDING_USD[stage_idx]
    local tech, seen = {}, {}
    local profile = TECH_PROFILE[ind[2]]
    for _ = 1, r(3, 6) do
      local t = pick(r, profile)
      if not seen[t] then
        seen[t] = true
        tech[#tech + 1] = t
      end
    end
    for _ = 1, r(1, 3) do
      local t = pick(r, TECH_GENERAL)
      if not seen[t] then
        seen[t] = true
        tech[#tech + 1] = t
      end
    end
    local ticker
    if stage == "Public" then
      local t = upper(base:gsub("[^%a]", ""):sub(1, 4))
      if #t < 2 then
        t = "CL"
      end
      local n = 0
      while tickers[t] do
        n = n + 1
        t = t:sub(1, 3) .. string.char(64 + n)
      end
      tickers[t] = true
      ticker = t
    end
    local c = {
      id = format("company_%06x", (i * 40503 + 7919) % 16777216),
      name = name,
      domain = domain,
      industry = ind[1],
      industries = { ind[1], ind[2] == "saas" and "SaaS" or ind[2] == "fin" and "Fintech"
        or ind[2] == "health" and "Healthcare" or ind[2] == "commerce" and "Consumer"
        or ind[2] == "industrial" and "Industrial" or ind[2] == "media" and "Media"
        or "Professional Services" },
      employee_count = r(bounds[1], bounds[2]),
      size = M.SIZES[size_idx],
      size_idx = size_idx,
      revenue_range = M.REVENUE_RANGES[pick(r, REVENUE_BY_SIZE[size_idx])],
      city = loc[1], state = loc[2], state_code = loc[3], country = loc[4],
      country_code = loc[5], phone_cc = loc[7], loc = loc,
      hq_location = loc[1] .. ", " .. loc[3] .. ", " .. loc[5],
      funding_stage = stage,
      total_funding_usd = fb and r(fb[1], fb[2]) * 100000 or nil,
      tech_stack = tech,
      slug = base,
      linkedin_url = "https://www.linkedin.com/company/" .. base,
      founded_year = r(size_idx >= 6 and 1960 or 1995, 2023),
      ticker = ticker,
      description = name .. " provides " .. pick(r, ind[5]) .. " for "
        .. (size_idx >= 6 and "enterprises" or "growing businesses") .. ".",
      email_pattern = EMAIL_PATTERNS[pick(r, pat_w8)],
      catch_all = r(1, 100) <= 15,
      profile = ind[2],
    }
    companies[i] = c
    w.company_by_id[c.id] = c
    w.company_by_domain[domain] = c
    w.company_by_slug[base] = c
    w.company_by_name[M.fold_text(name)] = w.company_by_name[M.fold_text(name)] or c
    if ticker then
      w.company_by_ticker[ticker] = c
    end
  end
end

local function build_people(w, r)
  local companies = w.companies
  local pw = {}
  for i, c in ipairs(companies) do
    pw[i] = PEOPLE_WEIGHTS[c.size_idx]
  end
  local comp_w8 = expand(pw)
  local origin_w8 = expand(ORIGIN_WEIGHTS)
  local sen_w8 = expand(SENIORITY_WEIGHTS)
  local dept_w8 = expand(DEPARTMENT_WEIGHTS)
  local prov_w8 = expand(PROVIDER_WEIGHTS)
  local loc_w = {}
  for i, l in ipairs(LOCATIONS) do
    loc_w[i] = l[6]
  end
  local loc_w8 = expand(loc_w)
  local people, by_id, by_email, by_slug = w.people, w.people_by_id, w.person_by_email,
    w.person_by_slug
  local id = 4400000
  for i = 1, M.PEOPLE do
    id = id + r(1, 40)
    local ci = pick(r, comp_w8)
    local c = companies[ci]
    local origin = NAMES[pick(r, origin_w8)]
    local first = pick(r, origin[1])
    local last_origin = r(1, 100) <= 85 and origin or NAMES[pick(r, origin_w8)]
    local last = pick(r, last_origin[2])
    local s = pick(r, sen_w8)
    local seniority = M.SENIORITIES[s]
    local dept = DEPARTMENTS[pick(r, dept_w8)]
    local title
    if s == 1 and r(1, 100) <= 30 then
      dept = "Executive"
      title = pick(r, CEO_TITLES)
    else
      title = pick(r, TITLES[dept][s])
    end
    local loc
    if r(1, 100) <= 75 then
      loc = c.loc
    else
      loc = LOCATIONS[pick(r, loc_w8)]
    end
    local f, l = M.fold(first), M.fold(last)
    local slug = format("%s-%s-%04x", f, l, r(0, 65535))
    while by_slug[slug] do
      slug = format("%s-%s-%04x", f, l, r(0, 65535))
    end
    local lp = local_part(c.email_pattern, first, last)
    local email = lp .. "@" .. c.domain
    local n = 1
    while by_email[email] do
      n = n + 1
      email = lp .. n .. "@" .. c.domain
    end
    local email_found = r(1, 100) <= 85
    local status
    if not email_found then
      status = "invalid"
    elseif c.catch_all then
      status = "catch_all"
    else
      status = "valid"
    end
    local phone_found = r(1, 100) <= 40
    local phone = phone_number(r, loc[7])
    local p = setmetatable({
      id = format("%d", id),
      first_name = first,
      last_name = last,
      title = title,
      seniority = seniority,
      department = dept,
      company = ci,
      loc = loc,
      slug = slug,
      truth = {
        email = email, email_status = status, email_found = email_found,
        phone = phone, phone_found = phone_found,
        provider = PROVIDERS[pick(r, prov_w8)],
      },
    }, person_mt)
    people[i] = p
    by_id[p.id] = p
    by_email[email] = p
    by_slug[slug] = p
  end
end

-- The name index (first + last @ domain) is built on first use: only contact matching needs it.
local function name_index(w)
  local idx = w.person_by_name
  if not idx then
    idx = {}
    for _, p in ipairs(w.people) do
      local key = M.fold(p.first_name) .. " " .. M.fold(p.last_name) .. "@"
        .. w.companies[p.company].domain
      idx[key] = idx[key] or p
    end
    w.person_by_name = idx
  end
  return idx
end

-- LuaJIT's trace compiler gives up on these long loop bodies ("register coalescing too
-- complex") and thrashes; its interpreter runs them faster than the failed traces.
local jit = rawget(_G, "jit")
if jit and jit.off then
  jit.off(build_companies)
  jit.off(build_people)
end

--- Builds the world for `seed` (see the module comment). `clock` (optional) returns
-- milliseconds, for w.build_ms.
function M.build(seed, clock)
  local t0 = clock and clock()
  local w = {
    seed = seed,
    people = {}, people_by_id = {}, person_by_email = {}, person_by_slug = {},
    companies = {}, company_by_id = {}, company_by_domain = {}, company_by_slug = {},
    company_by_name = {}, company_by_ticker = {},
  }
  local r = stream(seed, 100)
  build_companies(w, r)
  build_people(w, stream(seed, 101))
  w.build_ms = t0 and (clock() - t0) or nil
  return w
end

local cache = {}

--- The world of a sandbox state (built on first use, then cached per seed).
function M.of(state)
  local seed = state.config.seed or 0
  local w = cache[seed]
  if not w then
    w = M.build(seed, state.config.monotonic_ms)
    cache[seed] = w
    if not state.config.quiet and w.build_ms then
      io.stderr:write(string.format("sandbox: world of seed %d built in %.0f ms (%d people, "
        .. "%d companies)\n", seed, w.build_ms, #w.people, #w.companies))
    end
  end
  return w
end

function M.company_of(w, p)
  return w.companies[p.company]
end

--- The slug of a LinkedIn profile URL in any usual form ("https://uk.linkedin.com/in/x/",
-- "linkedin.com/pub/x", "www.linkedin.com/in/x?trk=..", or a bare handle), lowercased.
function M.linkedin_slug(url)
  if type(url) ~= "string" or url == "" then
    return nil
  end
  local s = url:gsub("[?#].*$", ""):gsub("/+$", "")
  local slug = s:match("linkedin%.com/in/([^/]+)") or s:match("linkedin%.com/pub/([^/]+)")
  if not slug and not s:find("/", 1, true) and not s:find("%s") then
    slug = s
  end
  return slug and lower(slug) or nil
end

local nonempty = util.nonempty

--- Finds a company by company_id, domain, ticker or name (fields as in EnrichCompanyRequest).
function M.find_company(w, f)
  local id = nonempty(f.company_id)
  if id and w.company_by_id[id] then
    return w.company_by_id[id]
  end
  local domain = nonempty(f.domain) or nonempty(f.company_domain)
  if domain then
    domain = lower(domain):gsub("^https?://", ""):gsub("^www%.", ""):gsub("/.*$", "")
    if w.company_by_domain[domain] then
      return w.company_by_domain[domain]
    end
  end
  local ticker = nonempty(f.company_ticker)
  if ticker and w.company_by_ticker[upper(ticker)] then
    return w.company_by_ticker[upper(ticker)]
  end
  local name = nonempty(f.company_name) or nonempty(f.company)
  if name then
    return w.company_by_name[M.fold_text(name)]
  end
  return nil
end

--- The world person that contact fields identify: by LinkedIn slug, by email, by person_id,
-- or by first + last name at a company (domain or name). nil when nothing matches.
function M.match(w, f)
  local pid = nonempty(f.person_id)
  if pid and w.people_by_id[pid] then
    return w.people_by_id[pid]
  end
  local slug = M.linkedin_slug(f.linkedin_url)
  if slug and w.person_by_slug[slug] then
    return w.person_by_slug[slug]
  end
  local email = nonempty(f.email)
  if email and w.person_by_email[lower(email)] then
    return w.person_by_email[lower(email)]
  end
  local first, last = nonempty(f.first_name), nonempty(f.last_name)
  if not (first and last) and nonempty(f.full_name) then
    first, last = f.full_name:match("^%s*(%S+)%s+(.-)%s*$")
  end
  if first and last then
    local c = M.find_company(w, f)
    if c then
      return name_index(w)[M.fold(first) .. " " .. M.fold(last) .. "@" .. c.domain]
    end
  end
  return nil
end

local json_null

--- CompanyRecord for a company (the open object of API.md §8, plus a few extra keys).
function M.company_record(_, c)
  json_null = json_null or require("sandbox.json").null
  local tech = {}
  for i, t in ipairs(c.tech_stack) do
    tech[i] = t
  end
  return {
    company_id = c.id,
    name = c.name,
    domain = c.domain,
    industry = c.industry,
    industries = { c.industries[1], c.industries[2] },
    employee_count = c.employee_count,
    employee_count_range = c.size,
    revenue_range = c.revenue_range,
    hq_location = c.hq_location,
    hq_city = c.city,
    hq_state = c.state,
    hq_country = c.country,
    funding_stage = c.funding_stage,
    total_funding_usd = c.total_funding_usd or json_null,
    tech_stack = tech,
    linkedin_url = c.linkedin_url,
    founded_year = c.founded_year,
    ticker = c.ticker or json_null,
    description = c.description,
  }
end

--- A people-search row: public profile fields, no email or phone (enrichment finds those).
function M.person_row(w, p)
  local c = w.companies[p.company]
  return {
    person_id = p.id,
    first_name = p.first_name,
    last_name = p.last_name,
    full_name = p.full_name,
    title = p.title,
    seniority = p.seniority,
    department = p.department,
    company_id = c.id,
    company_name = c.name,
    company_domain = c.domain,
    industry = c.industry,
    company_size = c.size,
    location = p.location,
    city = p.city,
    state = p.state,
    country = p.country,
    linkedin_url = p.linkedin_url,
  }
end

M.DEPARTMENTS = { "Executive" }
for _, d in ipairs(DEPARTMENTS) do
  M.DEPARTMENTS[#M.DEPARTMENTS + 1] = d
end
M.LOCATIONS = LOCATIONS
M.TECH = {}
do
  local seen = {}
  for _, t in ipairs(TECH_GENERAL) do
    if not seen[t] then
      seen[t] = true
      M.TECH[#M.TECH + 1] = t
    end
  end
  for _, prof in ipairs { "saas", "fin", "health", "commerce", "industrial", "services", "media" } do
    for _, t in ipairs(TECH_PROFILE[prof]) do
      if not seen[t] then
        seen[t] = true
        M.TECH[#M.TECH + 1] = t
      end
    end
  end
  table.sort(M.TECH)
end

return M
