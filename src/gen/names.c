/* Name tables; see names.h. */
#include "names.h"
#include <stdio.h>

#define N(a) (sizeof a / sizeof a[0])

static const char *const female[] = {
    "Olivia", "Emma", "Charlotte", "Amelia", "Sophia", "Mia", "Isabella", "Ava", "Evelyn", "Luna", "Harper",
    "Camila", "Sofia", "Scarlett", "Elizabeth", "Eleanor", "Emily", "Chloe", "Mila", "Violet", "Penelope", "Gianna",
    "Aria", "Abigail", "Ella", "Avery", "Hazel", "Nora", "Layla", "Lily", "Aurora", "Nova", "Ellie", "Madison",
    "Grace", "Isla", "Willow", "Zoe", "Riley", "Stella", "Victoria", "Maya", "Valentina", "Naomi", "Aaliyah",
    "Ximena", "Mariana", "Jasmine", "Priya", "Mei", "Fatima", "Amara", "Leilani", "Nadia", "Keisha", "Imani",
    "Guadalupe", "Linh", "Ana", "Sara"};
static const char *const male[] = {
    "Liam", "Noah", "Oliver", "James", "Elijah", "Mateo", "Theodore", "Henry", "Lucas", "William", "Benjamin",
    "Levi", "Sebastian", "Jack", "Ezra", "Michael", "Daniel", "Leo", "Owen", "Samuel", "Hudson", "Alexander",
    "Asher", "Luca", "Ethan", "John", "David", "Jackson", "Joseph", "Mason", "Luke", "Matthew", "Julian", "Dylan",
    "Elias", "Jacob", "Maverick", "Gabriel", "Logan", "Aiden", "Thomas", "Isaac", "Miles", "Carter", "Santiago",
    "Diego", "Jamal", "Malik", "Arjun", "Wei", "Omar", "Kwame", "Minh", "Jose", "Luis", "Tyrone", "Andre",
    "Hiroshi", "Carlos", "Ahmed"};
static const char *const last[] = {
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez",
    "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore", "Jackson", "Martin", "Lee",
    "Perez", "Thompson", "White", "Harris", "Sanchez", "Clark", "Ramirez", "Lewis", "Robinson", "Walker", "Young",
    "Allen", "King", "Wright", "Scott", "Torres", "Nguyen", "Hill", "Flores", "Green", "Adams", "Nelson", "Baker",
    "Hall", "Rivera", "Campbell", "Mitchell", "Carter", "Roberts", "Gomez", "Phillips", "Evans", "Turner", "Diaz",
    "Parker", "Cruz", "Edwards", "Collins", "Reyes", "Stewart", "Morris", "Morales", "Murphy", "Cook", "Rogers",
    "Gutierrez", "Ortiz", "Morgan", "Cooper", "Peterson", "Bailey", "Reed", "Kelly", "Howard", "Ramos", "Kim",
    "Cox", "Ward", "Richardson", "Watson", "Brooks", "Chavez", "Wood", "James", "Bennett", "Gray", "Mendoza",
    "Ruiz", "Hughes", "Price", "Alvarez", "Castillo", "Sanders", "Patel", "Myers", "Long", "Ross", "Foster",
    "Jimenez", "O'Brien", "Tran", "Okafor", "Yamamoto", "Chen", "Singh", "Haddad", "Novak"};
static const char *const town_a[] = {
    "Cedar", "Maple", "Oak", "Pine", "Willow", "Elm", "Birch", "Aspen", "Spring", "River", "Lake", "Stone", "Red",
    "Green", "Silver", "Golden", "Clear", "Fair", "Rock", "Mill", "North", "South", "East", "West", "Grand",
    "Pleasant", "Shady", "Sandy", "Prairie", "Eagle", "Bear", "Fox", "Deer", "Hawk", "Sun", "Bright", "Copper",
    "Iron", "Cotton", "Harbor"};
static const char *const town_b[] = {
    " Falls", " Creek", "wood", "field", " Springs", " Valley", " Ridge", "ville", "ton", " Hills", " Grove",
    " Point", " Bend", " Crossing", "dale", " Harbor", " Park", "brook", " Heights", " Plains"};
static const char *const street[] = {
    "Main Street", "Oak Street", "Maple Avenue", "Park Avenue", "Cedar Lane", "Elm Street", "Washington Street",
    "Lake Drive", "Hill Road", "School Road", "Church Street", "Mill Road", "Pine Street", "Ridge Road",
    "College Avenue", "Sunset Boulevard", "Highland Avenue", "River Road", "Forest Drive", "Valley View Drive"};

const char *name_first(rng *r, int female_) { return female_ ? female[rng_below(r, N(female))] : male[rng_below(r, N(male))]; }

const char *name_last(rng *r) { return last[rng_below(r, N(last))]; }

void name_town(rng *r, char *out, size_t n)
{
    const char *a = town_a[rng_below(r, N(town_a))], *b = town_b[rng_below(r, N(town_b))];
    snprintf(out, n, "%s%s", a, b);
}

void name_street(rng *r, char *out, size_t n)
{
    snprintf(out, n, "%d %s", rng_range(r, 100, 9899), street[rng_below(r, N(street))]);
}
